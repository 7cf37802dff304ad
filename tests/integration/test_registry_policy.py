"""With keys/registry.yaml, encrypt takes recipients and crypt rule from the registry."""

from __future__ import annotations

from tests.helpers import age_key
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
