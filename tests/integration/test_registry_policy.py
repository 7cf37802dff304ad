"""With keys/registry.yaml, encrypt takes recipients and crypt rule from the registry."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import GpgHome, age_key
from tests.integration.conftest import World


def registry(world: World, sandbox: str, production: str) -> None:
    world.write("keys/registry.yaml", f"""version: 1
defaults:
  encrypted_regex: ^(data|stringData)$
clusters:
  sandbox: {{description: main}}
  production: {{description: tags}}
keys:
  me:
    type: age
    recipient: {world.key.recipient}
    owner: me@example.com
    clusters: ["*"]
    created: 2026-01-01
    status: active
  flux-sandbox:
    type: age
    recipient: {sandbox}
    owner: flux@example.com
    clusters: [sandbox]
    created: 2026-01-01
    status: active
  flux-production:
    type: age
    recipient: {production}
    owner: flux@example.com
    clusters: [production]
    created: 2026-01-01
    status: active
rules:
  - path: clusters/production/**
    clusters: [production]
  - path: clusters/sandbox/**
    clusters: [sandbox]
""")


def test_recipients_and_crypt_rule_from_registry(world: World) -> None:
    sandbox, production = age_key(), age_key()
    registry(world, sandbox.recipient, production.recipient)
    path = world.write("clusters/production/db.yaml",
                       "kind: Secret\nmetadata:\n  name: db\nstringData:\n  pw: reg-secret\n")
    result = world.cli("-v", "encrypt", "-i", path)
    assert result.code == 0, result.stderr
    assert "registry.yaml rule" in result.stderr
    text = path.read_text()
    assert production.recipient in text and world.key.recipient in text
    assert sandbox.recipient not in text
    assert "name: db" in text and "reg-secret" not in text
    assert world.cli("verify", "--require-mac", path).code == 0


def test_path_without_registry_rule_is_refused(world: World) -> None:
    registry(world, age_key().recipient, age_key().recipient)
    path = world.write("elsewhere/x.yaml", "pw: nowhere\n")
    result = world.cli("encrypt", "-i", path)
    assert result.code == 3
    assert "no rule of the registry matches elsewhere/x.yaml" in result.stderr
    assert path.read_text() == "pw: nowhere\n"


def test_pgp_public_key_from_registry_not_from_keyring(world: World, gpg_home: GpgHome,
                                                       tmp_path: Path) -> None:
    """The user's keyring lacks the cluster's PGP key; the registry's public_key file is
    enough to encrypt, and the key's owner (gpg_home) can decrypt the result."""
    fp: str = gpg_home.fp  # type: ignore[attr-defined]
    world.write("keys/pgp/cluster.asc", gpg_home.export_public(fp))
    world.write("keys/registry.yaml", f"""version: 1
clusters:
  production: {{description: tags}}
keys:
  me:
    type: age
    recipient: {world.key.recipient}
    owner: me@example.com
    clusters: ["*"]
    created: 2026-01-01
  cluster-pgp:
    type: pgp
    fingerprint: {fp}
    public_key: pgp/cluster.asc
    owner: ops@example.com
    clusters: [production]
    created: 2026-01-01
rules:
  - path: "**"
    clusters: [production]
""")
    empty = tmp_path / "empty-gnupg"
    empty.mkdir(mode=0o700)
    path = world.write("app.env", "TOKEN=pgp-reg-secret\n")
    result = world.cli("encrypt", "-i", path, env={**world.env, "GNUPGHOME": str(empty)})
    assert result.code == 0, result.stderr
    assert fp in path.read_text()
    owner = {**world.env, "GNUPGHOME": str(gpg_home.path)}
    owner.pop("SOPS_AGE_KEY_FILE")
    assert world.cli("decrypt", path, env=owner).stdout == "TOKEN=pgp-reg-secret\n"
    assert not any(empty.iterdir())  # nothing imported into the user's keyring
