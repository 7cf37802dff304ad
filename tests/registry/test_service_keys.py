"""Cloud KMS / Vault keys in the registry: recorded by their sops id, no private material,
used by sops only; plans and renderings keep them exactly where the registry says."""

from __future__ import annotations

from pathlib import Path

import pytest

from sopskit.engine.rekey.desired import load_desired
from sopskit.engine.rekey.plan import make_plan
from sopskit.errors import ConfigError
from sopskit.registry.schema import load_registry
from sopskit.registry.sops_config import render
from sopskit.sops.config import rule_for
from tests.helpers import run_sops
from tests.rekey.test_plan import KMS_ARN, _add_kms_stanza
from tests.rekey.world import World, content, make_world

SERVICE_KEYS = {
    "aws-prod": ("kms", KMS_ARN),
    "gcp-prod": ("gcp_kms", "projects/p1/locations/global/keyRings/r1/cryptoKeys/k1"),
    "azure-prod": ("azure_kv", "https://v1.vault.azure.net/keys/sops/0123abcd"),
    "vault-prod": ("hc_vault", "https://vault.example:8200/v1/sops/keys/prod"),
}


def _with_service_keys(world: World, keys: dict[str, tuple[str, str]],
                       status: str = "active") -> None:
    path = world.root / "keys" / "registry.yaml"
    block = "".join(f"  {name}:\n    type: {kind}\n    recipient: {rid}\n"
                    f"    clusters: [sandbox]\n    status: {status}\n"
                    for name, (kind, rid) in keys.items())
    text = path.read_text()
    path.write_text(text.replace("keys:\n", "keys:\n" + block, 1))


@pytest.fixture
def world(tmp_path: Path) -> World:
    w = make_world(tmp_path)
    w.encrypt("clusters/sandbox/db.yaml", content("yaml", 1))
    return w


def test_registry_records_service_keys(world: World) -> None:
    _with_service_keys(world, SERVICE_KEYS)
    registry = load_registry(world.root / "keys" / "registry.yaml")
    for name, (kind, rid) in SERVICE_KEYS.items():
        key = registry.keys[name]
        assert (key.type, key.recipient.id, key.managed) == (kind, rid, False)


def test_a_malformed_service_id_is_a_registry_problem(world: World) -> None:
    _with_service_keys(world, {"aws-prod": ("kms", "arn:aws:s3:::bucket")})
    with pytest.raises(ConfigError) as info:
        load_registry(world.root / "keys" / "registry.yaml")
    assert any("keys.aws-prod.recipient: not a kms key id" in p for p in info.value.problems)


def test_rendered_sops_yaml_lists_them_and_sops_reads_them(world: World) -> None:
    _with_service_keys(world, SERVICE_KEYS)
    registry = load_registry(world.root / "keys" / "registry.yaml")
    config = world.root / ".sops.yaml"
    config.write_text(render(registry))
    target = world.root / "clusters/sandbox/x.yaml"
    rule = rule_for(config, target)
    assert {(r.type, r.id) for r in rule.recipients} >= set(SERVICE_KEYS.values())
    # the real sops takes the KMS key from that config: it tries to reach AWS with it
    config.write_text(render(registry).replace(
        "    gcp_kms:", "    x_gcp_kms:").replace("    azure_keyvault:", "    x_azure:")
        .replace("    hc_vault_transit_uri:", "    x_vault:"))
    target.write_text("stringData:\n  a: b\n")
    done = run_sops("encrypt", target.relative_to(world.root), env={"AWS_EC2_METADATA_DISABLED":
                                                                   "true"}, cwd=world.root)
    assert done.returncode != 0
    assert KMS_ARN.encode() in done.stderr


def test_plan_follows_the_registry_for_a_known_kms_key(world: World) -> None:
    _add_kms_stanza(world.root / "clusters/sandbox/db.yaml")
    _with_service_keys(world, {"aws-prod": ("kms", KMS_ARN)})
    plan = make_plan(world.root, [], load_desired(world.root))
    entry = next(f for f in plan.files if f.path == "clusters/sandbox/db.yaml")
    assert entry.action == "nothing"
    world.write_registry()  # the registry without it: a KMS key it does not know is kept
    _with_service_keys(world, {"aws-prod": ("kms", KMS_ARN)}, status="revoked")
    plan = make_plan(world.root, [], load_desired(world.root))
    entry = next(f for f in plan.files if f.path == "clusters/sandbox/db.yaml")
    assert entry.action == "updatekeys+rotate"
    assert "remove aws-prod (revoked)" in entry.reasons


def test_key_groups_rendering_reads_back_with_the_metadata_ids(world: World) -> None:
    """Inside key_groups sops wants mappings ({arn, role}, {vaultUrl, key, version}, ...);
    reading the rendering back must give the ids sops writes in a file's metadata."""
    keys = dict(SERVICE_KEYS, **{"aws-role": ("kms", KMS_ARN.replace("0a1b", "9f9f")
                                               + "+arn:aws:iam::123456789012:role/sops")})
    world.extra_rules = ("  - path: clusters/sandbox/grouped/**\n    key_groups:\n"
                         "      - [sandbox]\n      - {keys: [ops-admin]}\n"
                         "    shamir_threshold: 2\n")
    world.write_registry()
    _with_service_keys(world, keys)
    registry = load_registry(world.root / "keys" / "registry.yaml")
    config = world.root / ".sops.yaml"
    config.write_text(render(registry))
    rule = rule_for(config, world.root / "clusters/sandbox/grouped/a.yaml")
    assert len(rule.key_groups) == 2
    assert {(r.type, r.id) for r in rule.key_groups[0]} >= set(keys.values())
