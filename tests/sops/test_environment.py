"""The child environment holds exactly the chosen keys: nothing from HOME or SOPS_* vars."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sopskit.identity.model import AgeIdentity, Identities
from sopskit.sops.environment import child_env
from tests.helpers import AgeKey


def ids(*keys: AgeKey) -> Identities:
    return Identities(tuple(AgeIdentity(k.secret, k.recipient, "test") for k in keys))


def test_only_chosen_keys_and_private_home(age: AgeKey, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", "/somewhere/keys.txt")
    monkeypatch.setenv("SOPS_PGP_FP", "ABCD")
    env = child_env(ids(age), config=Path("/x/.sops.yaml"))
    assert env["SOPS_AGE_KEY"] == age.secret
    assert env["SOPS_CONFIG"] == "/x/.sops.yaml"
    assert env["HOME"] != os.environ["HOME"]
    assert not any(Path(env["HOME"]).iterdir()) or all(
        p.name.endswith(".sops.yaml") for p in Path(env["HOME"]).iterdir())
    sops_vars = {k for k in env if k.startswith("SOPS_")}
    assert sops_vars == {"SOPS_AGE_KEY", "SOPS_CONFIG", "SOPS_DISABLE_VERSION_CHECK",
                         "SOPS_GPG_EXEC"}


def test_gnupghome_passed_only_when_chosen(tmp_path: Path) -> None:
    env = child_env(Identities(gnupghome=tmp_path))
    assert env["GNUPGHOME"] == str(tmp_path)
    assert "SOPS_GPG_EXEC" not in env
    assert "SOPS_AGE_KEY" not in env
    no_pgp = child_env(Identities())
    assert no_pgp["GNUPGHOME"] != os.environ["GNUPGHOME"]


def test_several_keys_one_per_line(age: AgeKey) -> None:
    other = AgeKey("AGE-SECRET-KEY-1OTHER", "age1other")
    assert child_env(ids(age, other))["SOPS_AGE_KEY"].splitlines() == [age.secret, other.secret]
