"""`sopskit keys generate --store keyring`: the public part lands in the registry, the private
part in the real Secret Service, and nowhere else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sopskit.registry.schema import load_registry
from tests.helpers import git_repo, run_cli
from tests.identity.secret_service import SecretService


def _repo(tmp_path: Path) -> Path:
    repo = git_repo(tmp_path / "repo")
    (repo / "clusters" / "sandbox").mkdir(parents=True)
    assert run_cli("init", cwd=repo).code == 0
    return repo


def test_generate_into_keyring(secret_service: SecretService, tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    made = run_cli("keys", "generate", "flux-sandbox", "--type", "age", "--cluster", "sandbox",
                   "--store", "keyring", cwd=repo)
    assert made.code == 0, made.stderr
    recipient = made.stdout.strip()
    assert recipient.startswith("age1") and "AGE-SECRET-KEY" not in made.stdout + made.stderr
    assert "OS keyring" in made.stderr

    shown = json.loads(run_cli("keys", "show", "flux-sandbox", "--format", "json",
                               cwd=repo).stdout)
    assert shown["recipient"] == recipient
    listing = json.loads(run_cli("identity", "list", "--format", "json", cwd=repo).stdout)
    assert {"name": "flux-sandbox", "recipient": recipient, "kind": "x25519",
            "source": "keyring:flux-sandbox"} in listing["identities"]
    assert "flux-sandbox" in listing["decryptable"]
    # no private key file anywhere in the repository
    for path in repo.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            assert "AGE-SECRET-KEY" not in path.read_text(errors="replace"), path


def test_generate_refuses_before_generating(secret_service: SecretService,
                                            tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    assert run_cli("identity", "add", "taken", "--generate", cwd=repo).code == 0
    again = run_cli("keys", "generate", "taken", "--type", "age", "--cluster", "sandbox",
                    "--store", "keyring", cwd=repo)
    assert again.code == 2 and "already holds an identity named 'taken'" in again.stderr
    assert "taken" not in load_registry(repo / "keys" / "registry.yaml").keys
    pgp = run_cli("keys", "generate", "bot", "--type", "pgp", "--cluster", "sandbox",
                  "--store", "keyring", cwd=repo)
    assert pgp.code == 2 and "age identities only" in pgp.stderr


def test_generate_without_keyring_names_alternatives(tmp_path: Path) -> None:
    repo = _repo(tmp_path)  # conftest selects the fail backend: no keyring at all
    done = run_cli("keys", "generate", "k", "--type", "age", "--cluster", "sandbox",
                   "--store", "keyring", cwd=repo)
    assert done.code == 3 and "SOPS_AGE_KEY_FILE" in done.stderr
    assert "k" not in load_registry(repo / "keys" / "registry.yaml").keys


def test_keyring_entry_removed_when_the_registry_write_fails(
        secret_service: SecretService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sopskit.errors import InputError
    from sopskit.identity.keyring_store import KeyringStore
    from sopskit.identity.manage import KeyringDestination
    from sopskit.registry import edit, keyops

    repo = _repo(tmp_path)

    def full_disk(path: Path, text: str) -> None:
        raise InputError("cannot write it (No space left on device)", path=path)

    monkeypatch.setattr(edit, "write_atomic", full_disk)
    with pytest.raises(InputError):
        keyops.generate_key(repo / "keys" / "registry.yaml", "lost", "age",
                            keyops.KeyMeta(("sandbox",)), KeyringDestination())
    store = KeyringStore()
    assert store.get("lost") is None and "lost" not in store.names()
