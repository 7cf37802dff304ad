"""The runner over the real sops binary: round trips, exit codes mapped to typed errors,
identities limited to the chosen ones, and no value in any error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sopskit.errors import InputError, NoIdentityError, UsageError, VerificationError
from sopskit.identity.model import AgeIdentity, Identities
from sopskit.recipient import Recipient
from sopskit.sops.binary import locate
from sopskit.sops.config import CreationRule
from sopskit.sops.runner import Sops
from tests.helpers import AgeKey, age_key

SECRET = b"db_password: correct-horse-battery\n"


def sops_for(*keys: AgeKey) -> Sops:
    return Sops(locate(None), Identities(tuple(AgeIdentity(k.secret, k.recipient, "t")
                                               for k in keys)))


def rule(*keys: AgeKey) -> CreationRule:
    return CreationRule.single(Recipient.age(k.recipient) for k in keys)


def test_encrypt_decrypt_round_trip(age: AgeKey) -> None:
    sops = sops_for(age)
    enc = sops.encrypt(SECRET, filename="a/s.yaml", rule=rule(age))
    assert b"correct-horse" not in enc
    assert sops.decrypt(enc, filename="s.yaml") == SECRET


def test_keys_in_home_are_not_used(age: AgeKey, isolated_env: Path) -> None:
    # sops would merge the default keys.txt; the runner's private HOME hides it.
    keys = isolated_env / ".config" / "sops" / "age" / "keys.txt"
    keys.parent.mkdir(parents=True)
    keys.write_text(age.secret + "\n")
    enc = sops_for(age).encrypt(SECRET, filename="s.yaml", rule=rule(age))
    with pytest.raises(NoIdentityError):
        sops_for().decrypt(enc, filename="s.yaml")
    with pytest.raises(NoIdentityError):
        sops_for(age_key()).decrypt(enc, filename="s.yaml")


def test_already_encrypted_is_usage_error(age: AgeKey) -> None:
    sops = sops_for(age)
    enc = sops.encrypt(SECRET, filename="s.yaml", rule=rule(age))
    with pytest.raises(UsageError, match="already encrypted"):
        sops.encrypt(enc, filename="s.yaml", rule=rule(age))


def test_empty_and_invalid_input(age: AgeKey) -> None:
    sops = sops_for(age)
    with pytest.raises(InputError, match="empty"):
        sops.encrypt(b"", filename="s.yaml", rule=rule(age))
    with pytest.raises(InputError) as err:
        sops.encrypt(b"key: [unclosed-secret-value\n", filename="s.yaml", rule=rule(age))
    assert "unclosed-secret-value" not in str(err.value)


def test_tampered_mac_is_verification_error(age: AgeKey) -> None:
    sops = sops_for(age)
    enc = sops.encrypt(SECRET, filename="s.yaml", rule=rule(age)).decode()
    lines = enc.splitlines()
    mac = next(i for i, line in enumerate(lines) if line.strip().startswith("mac: ENC["))
    start = lines[mac].index("data:") + 5
    c = lines[mac][start]
    lines[mac] = lines[mac][:start] + ("A" if c != "A" else "B") + lines[mac][start + 1:]
    with pytest.raises(VerificationError) as err:
        sops.decrypt("\n".join(lines).encode(), filename="s.yaml")
    assert err.value.check == "mac"


def test_rotate_changes_recipients_in_one_call(age: AgeKey, tmp_path: Path) -> None:
    new = age_key()
    sops = sops_for(age)
    target = tmp_path / "s.yaml"
    target.write_bytes(sops.encrypt(SECRET, filename="s.yaml", rule=rule(age)))
    out = sops.rotate(target, add=[Recipient.age(new.recipient)],
                      remove=[Recipient.age(age.recipient)]).decode()
    assert new.recipient in out and age.recipient not in out
    assert sops_for(new).decrypt(out.encode(), filename="s.yaml") == SECRET


def test_updatekeys_in_place(age: AgeKey, tmp_path: Path) -> None:
    new = age_key()
    sops = sops_for(age)
    target = tmp_path / "s.yaml"
    target.write_bytes(sops.encrypt(SECRET, filename="s.yaml", rule=rule(age)))
    sops.updatekeys(target, rule=rule(age, new))
    assert sops_for(new).decrypt(target.read_bytes(), filename="s.yaml") == SECRET


def test_edit_with_a_real_editor_program(age: AgeKey, tmp_path: Path) -> None:
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nsed -i 's/battery/staple/' \"$1\"\n")
    editor.chmod(0o755)
    sops = sops_for(age)
    target = tmp_path / "s.yaml"
    target.write_bytes(sops.encrypt(SECRET, filename="s.yaml", rule=rule(age)))
    assert sops.edit(target, editor_env={"EDITOR": str(editor)}) is True
    assert sops.decrypt(target.read_bytes(), filename="s.yaml") == SECRET.replace(
        b"battery", b"staple")
    true = shutil.which("true") or "/bin/true"
    assert sops.edit(target, editor_env={"EDITOR": true}) is False


@pytest.mark.parametrize(("raw", "expected"), [("", 120.0), ("5", 5.0), (" 0.5 ", 0.5)])
def test_timeout_from_environment(raw: str, expected: float) -> None:
    from sopskit.sops.runner import timeout_from

    assert timeout_from({"SOPSKIT_SOPS_TIMEOUT": raw}) == expected


@pytest.mark.parametrize("raw", ["0", "-3", "soon", "inf", "nan"])
def test_bad_timeout_is_usage_error(raw: str) -> None:
    from sopskit.sops.runner import timeout_from

    with pytest.raises(UsageError, match="SOPSKIT_SOPS_TIMEOUT"):
        timeout_from({"SOPSKIT_SOPS_TIMEOUT": raw})
