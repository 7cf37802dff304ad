"""The engine refuses what sops produced when it does not match what was asked, and a sops
that hangs is stopped; in every case the file is byte-identical and no temp file is left."""

from __future__ import annotations

from pathlib import Path

import pytest

from sopskit.engine.keys import rotate, updatekeys
from sopskit.errors import BinaryError, SopsError, VerificationError
from sopskit.fsio import TEMP_PREFIX
from sopskit.identity.model import AgeIdentity, Identities
from sopskit.recipient import Recipient
from sopskit.sops.binary import SopsBinary, locate, read_version
from sopskit.sops.config import CreationRule
from sopskit.sops.runner import Sops
from tests.helpers import AgeKey, age_key, sops_binary


def fake(tmp_path: Path, body: str) -> SopsBinary:
    script = tmp_path / "sops-fake"
    script.write_text(f"#!/bin/sh\nREAL={sops_binary()}\nfor last; do :; done\n{body}\n")
    script.chmod(0o755)
    return SopsBinary(script, read_version(Path(sops_binary())))


def setup(tmp_path: Path, age: AgeKey) -> tuple[Path, Identities, bytes]:
    ids = Identities((AgeIdentity(age.secret, age.recipient, "t"),))
    target = tmp_path / "s.yaml"
    target.write_bytes(Sops(locate(None), ids).encrypt(
        b"pw: x1\n", filename="s.yaml",
        rule=CreationRule.single([Recipient.age(age.recipient)])))
    return target, ids, target.read_bytes()


def assert_untouched(target: Path, before: bytes) -> None:
    assert target.read_bytes() == before
    assert not [p for p in target.parent.iterdir() if p.name.startswith(TEMP_PREFIX)]


def test_rotate_that_keeps_the_data_key_is_refused(tmp_path: Path, age: AgeKey) -> None:
    target, ids, before = setup(tmp_path, age)
    liar = Sops(fake(tmp_path, 'cat "$last"'), ids)  # "rotated" = the same file
    with pytest.raises(VerificationError) as err:
        rotate(target, repo=tmp_path, sops=liar, identities=ids)
    assert err.value.check == "rotation"
    assert_untouched(target, before)


def test_updatekeys_that_changes_nothing_is_refused(tmp_path: Path, age: AgeKey) -> None:
    target, ids, before = setup(tmp_path, age)
    wanted = CreationRule.single([Recipient.age(age_key().recipient)])
    with pytest.raises(VerificationError) as err:
        updatekeys(target, wanted, repo=tmp_path, sops=Sops(fake(tmp_path, "exit 0"), ids),
                   identities=ids)
    assert err.value.check == "recipients"
    assert_untouched(target, before)


def test_hanging_sops_is_stopped(tmp_path: Path, age: AgeKey) -> None:
    target, ids, before = setup(tmp_path, age)
    slow = Sops(fake(tmp_path, 'sleep 30; exec "$REAL" "$@"'), ids, timeout=1)
    with pytest.raises(BinaryError, match="did not finish"):
        rotate(target, repo=tmp_path, sops=slow, identities=ids)
    assert_untouched(target, before)


def test_failing_sops_is_reported_for_the_users_file(tmp_path: Path, age: AgeKey) -> None:
    """updatekeys runs on a temp copy; its failure names the file, not `.sopskit-*`."""
    target, ids, before = setup(tmp_path, age)
    failing = Sops(fake(tmp_path, "exit 23"), ids)
    wanted = CreationRule.single([Recipient.age(age_key().recipient)])
    for run in (lambda: updatekeys(target, wanted, repo=tmp_path, sops=failing,
                                   identities=ids),
                lambda: rotate(target, repo=tmp_path, sops=failing, identities=ids)):
        with pytest.raises(SopsError) as err:
            run()
        assert err.value.path == "s.yaml" and err.value.sops_exit == 23
        assert_untouched(target, before)
