"""updatekeys, rotate and rekey_file over the real sops, each verified before the write."""

from __future__ import annotations

from pathlib import Path

import pytest

from sopskit.engine.keys import rekey_file, rotate, updatekeys
from sopskit.errors import NoIdentityError
from sopskit.identity.model import AgeIdentity, Identities
from sopskit.recipient import Recipient
from sopskit.sops.binary import locate
from sopskit.sops.config import CreationRule
from sopskit.sops.runner import Sops
from sopskit.sopsfile.datakey import recover_data_key
from sopskit.sopsfile.document import parse
from tests.helpers import AgeKey, GpgHome, age_key

PLAIN = b"user: app\npassword: rotate-me-123\nport: 5432\n"


def ids(*keys: AgeKey, gnupghome: Path | None = None) -> Identities:
    return Identities(tuple(AgeIdentity(k.secret, k.recipient, "t") for k in keys), gnupghome)


def rule(*keys: AgeKey, pgp: str | None = None) -> CreationRule:
    recipients = {Recipient.age(k.recipient) for k in keys}
    if pgp:
        recipients.add(Recipient.pgp(pgp))
    return CreationRule.single(recipients)


def make(tmp_path: Path, *keys: AgeKey) -> Path:
    target = tmp_path / "s.yaml"
    target.write_bytes(Sops(locate(None), ids(*keys)).encrypt(PLAIN, filename="s.yaml",
                                                               rule=rule(*keys)))
    return target


def state(path: Path, identities: Identities) -> tuple[frozenset[Recipient], bytes]:
    doc = parse(path.read_bytes(), path=str(path), fmt="yaml")
    return doc.metadata.recipients, recover_data_key(doc.metadata, identities, path="x")


def test_updatekeys_keeps_data_key(tmp_path: Path, age: AgeKey) -> None:
    new = age_key()
    path = make(tmp_path, age)
    _, key_before = state(path, ids(age))
    updatekeys(path, rule(age, new), repo=tmp_path, sops=Sops(locate(None), ids(age)),
               identities=ids(age))
    recipients, key_after = state(path, ids(new))
    assert recipients == rule(age, new).recipients
    assert key_after == key_before


def test_rotate_changes_data_key(tmp_path: Path, age: AgeKey) -> None:
    path = make(tmp_path, age)
    _, key_before = state(path, ids(age))
    rotate(path, repo=tmp_path, sops=Sops(locate(None), ids(age)), identities=ids(age))
    recipients, key_after = state(path, ids(age))
    assert key_after != key_before
    assert recipients == rule(age).recipients


def test_rekey_removes_and_adds_in_one_sops_call(tmp_path: Path, age: AgeKey) -> None:
    new = age_key()
    path = make(tmp_path, age)
    _, key_before = state(path, ids(age))
    done = rekey_file(path, rule(new), repo=tmp_path, sops=Sops(locate(None), ids(age)),
                      identities=ids(age, new))
    assert done.sops_calls == 1
    assert done.added == {Recipient.age(new.recipient)}
    assert done.removed == {Recipient.age(age.recipient)}
    recipients, key_after = state(path, ids(new))
    assert recipients == {Recipient.age(new.recipient)} and key_after != key_before
    with pytest.raises(NoIdentityError):
        state(path, ids(age))


def test_rekey_with_pgp(tmp_path: Path, age: AgeKey, gpg_home: GpgHome) -> None:
    fp: str = gpg_home.fp  # type: ignore[attr-defined]
    path = make(tmp_path, age)
    both = ids(age, gnupghome=gpg_home.path)
    done = rekey_file(path, rule(pgp=fp), repo=tmp_path, sops=Sops(locate(None), both),
                      identities=both)
    assert done.changed
    recipients, _ = state(path, Identities(gnupghome=gpg_home.path))
    assert recipients == {Recipient.pgp(fp)}


def test_rekey_without_rotation_uses_updatekeys(tmp_path: Path, age: AgeKey) -> None:
    new = age_key()
    path = make(tmp_path, age)
    _, key_before = state(path, ids(age))
    done = rekey_file(path, rule(age, new), repo=tmp_path, sops=Sops(locate(None), ids(age)),
                      identities=ids(age), rotate_key=False)
    assert done.sops_calls == 1 and not done.rotated
    assert state(path, ids(new))[1] == key_before


def test_rekey_to_pgp_key_known_only_by_its_file(tmp_path: Path, age: AgeKey,
                                                 gpg_home: GpgHome) -> None:
    """The new PGP recipient is not in any keyring the operation uses; its public key file
    (the registry's `public_key`) is enough, since age opens the file."""
    fp: str = gpg_home.fp  # type: ignore[attr-defined]
    key_file = tmp_path / "cluster.asc"
    key_file.write_bytes(gpg_home.export_public(fp))
    path = make(tmp_path, age)
    wanted = CreationRule.single({Recipient.age(age.recipient), Recipient.pgp(fp)},
                                 pgp_key_files=(key_file,))
    for rotate_key in (False, True):
        done = rekey_file(path, wanted, repo=tmp_path, sops=Sops(locate(None), ids(age)),
                          identities=ids(age), rotate_key=rotate_key)
        assert done.sops_calls == 1
    recipients, _ = state(path, Identities(gnupghome=gpg_home.path))
    assert recipients == wanted.recipients
