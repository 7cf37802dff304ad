"""`identity add` against the repository's key registry, and `identity list`'s "can decrypt"."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import AgeKey, GpgHome, age_key, clean_env, git_repo, run_cli
from tests.identity.secret_service import SecretService


def _repo(tmp_path: Path, admin: AgeKey, flux: AgeKey, pgp_fp: str) -> Path:
    repo = git_repo(tmp_path / "repo")
    (repo / "keys").mkdir()
    (repo / "keys" / "registry.yaml").write_text(f"""\
version: 1
clusters:
  sandbox: {{description: "tracks main"}}
  production: {{description: "tracks release tags"}}
keys:
  ops-admin:
    type: age
    recipient: {admin.recipient}
    owner: platform-team@example.com
    clusters: ["*"]
    created: 2026-01-10
    status: active
  flux-production:
    type: age
    recipient: {flux.recipient}
    clusters: [production]
    created: 2026-01-10
  release-bot:
    type: pgp
    fingerprint: {pgp_fp}
    clusters: [production]
    created: 2026-01-10
rules:
  - path: clusters/production/**
    clusters: [production]
  - path: clusters/sandbox/**
    clusters: [sandbox]
""")
    return repo


def test_public_part_must_match_the_registry_key(secret_service: SecretService, tmp_path: Path,
                                                 gpg_home: GpgHome) -> None:
    admin, flux, stranger = age_key(), age_key(), age_key()
    repo = _repo(tmp_path, admin, flux, gpg_home.fp)  # type: ignore[attr-defined]
    wrong = run_cli("identity", "add", "ops-admin", "--stdin", input=stranger.secret, cwd=repo)
    assert wrong.code == 2
    assert "registry key 'ops-admin' is age:" + admin.recipient in wrong.stderr
    assert stranger.recipient in wrong.stderr and stranger.secret not in wrong.stderr
    assert "keys/registry.yaml" in wrong.stderr
    pgp = run_cli("identity", "add", "release-bot", "--stdin", input=stranger.secret, cwd=repo)
    assert pgp.code == 2 and "registry key 'release-bot' is pgp:" in pgp.stderr
    listed = run_cli("identity", "list", "--format", "json", cwd=repo)
    assert json.loads(listed.stdout)["identities"] == []  # nothing was stored

    right = run_cli("identity", "add", "ops-admin", "--stdin", input=admin.secret, cwd=repo)
    assert right.code == 0 and right.stdout.strip() == admin.recipient
    other = run_cli("identity", "add", "laptop", "--stdin", input=stranger.secret, cwd=repo)
    assert other.code == 0 and "has no key 'laptop'" in other.stderr


def test_list_says_which_registry_keys_you_can_decrypt(secret_service: SecretService,
                                                       tmp_path: Path, gpg_home: GpgHome) -> None:
    admin, flux = age_key(), age_key()
    repo = _repo(tmp_path, admin, flux, gpg_home.fp)  # type: ignore[attr-defined]
    assert run_cli("identity", "add", "ops-admin", "--stdin", input=admin.secret,
                   cwd=repo).code == 0
    env = clean_env({"GNUPGHOME": str(gpg_home.path)})
    listed = run_cli("identity", "list", "--format", "json", env=env, cwd=repo)
    assert listed.code == 0, listed.stderr
    listing = json.loads(listed.stdout)
    assert listing["decryptable"] == ["ops-admin", "release-bot"]
    assert listing["missing"] == ["flux-production"]
    assert listing["registry"].endswith("keys/registry.yaml")
    assert listing["gnupghome"] == str(gpg_home.path)
    text = run_cli("identity", "list", env=env, cwd=repo).stdout
    assert "can decrypt for: ops-admin, release-bot" in text
    assert "no private key for: flux-production" in text
