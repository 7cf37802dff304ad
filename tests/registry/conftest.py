"""Registry test fixtures: a registry file with real age keys (and optionally a real PGP key)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import AgeKey, age_key, git_repo


@dataclass
class Keys:
    admin: AgeKey
    flux_sandbox: AgeKey
    flux_production: AgeKey
    old: AgeKey


def registry_text(keys: Keys, *, extra_keys: str = "", rules: str | None = None) -> str:
    default_rules = """\
  - path: clusters/production/**
    clusters: [production]
  - path: clusters/sandbox/**
    clusters: [sandbox]
  - path: "{core,services,apps}/**"       # bases go to every cluster
    clusters: [sandbox, production]
  - path: "**/*.env"
    clusters: [sandbox]
    encrypted_regex: null                  # dotenv: encrypt every value
"""
    return f"""\
# A test registry
version: 1
defaults:
  encrypted_regex: ^(data|stringData)$   # YAML and JSON only
  mac_only_encrypted: false
  encrypted_files: ["**/*.sops.*", "**/*.enc.*"]
clusters:
  sandbox: {{description: "tracks main"}}
  production: {{description: "tracks release tags"}}
keys:
  ops-admin:                # the admin key
    type: age
    recipient: {keys.admin.recipient}
    owner: platform-team@example.com
    clusters: ["*"]
    created: 2026-01-10
    expires: 2030-01-10
    status: active
  flux-sandbox:
    type: age
    recipient: {keys.flux_sandbox.recipient}
    clusters: [sandbox]
  flux-production:
    type: age
    recipient: {keys.flux_production.recipient}
    clusters: [production]
  old-admin:
    type: age
    recipient: {keys.old.recipient}
    clusters: ["*"]
    status: retired
{extra_keys}rules:                     # first match wins
{rules if rules is not None else default_rules}"""


@pytest.fixture
def keys() -> Keys:
    return Keys(age_key(), age_key(), age_key(), age_key())


@pytest.fixture
def repo(tmp_path: Path, keys: Keys) -> Path:
    """A git repository with keys/registry.yaml."""
    root = git_repo(tmp_path / "repo")
    (root / "keys").mkdir()
    (root / "keys" / "registry.yaml").write_text(registry_text(keys))
    return root
