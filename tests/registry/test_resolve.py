"""Path -> rule -> clusters -> recipients, the crypt rule per file kind, and why keys are
left out."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from sopskit.recipient import Recipient
from sopskit.registry.resolve import NoMatchingRule, resolve, resolve_or_none, sops_format
from sopskit.registry.schema import load_registry
from sopskit.sopsfile.model import CryptRule
from tests.registry.conftest import Keys, registry_text

TODAY = date(2026, 11, 25)
K8S = CryptRule("encrypted_regex", "^(data|stringData)$")


def _registry(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "registry.yaml"
    path.write_text(text)
    return load_registry(path)


def test_production_path(tmp_path: Path, keys: Keys) -> None:
    registry = _registry(tmp_path, registry_text(keys))
    res = resolve(registry, "clusters/production/app/secret.yaml", today=TODAY)
    assert (res.rule_index, res.rule.path, res.clusters) == (0, "clusters/production/**",
                                                             ("production",))
    assert res.recipients == {Recipient.age(keys.admin.recipient),
                              Recipient.age(keys.flux_production.recipient)}
    assert [k.name for k in res.keys] == ["flux-production", "ops-admin"]
    assert res.crypt_rule == K8S and res.format == "yaml" and not res.mac_only_encrypted
    assert res.key_groups == (res.recipients,) and res.shamir_threshold is None
    assert {(e.key.name, e.reason) for e in res.excluded} == {
        ("flux-sandbox", "other-cluster"), ("old-admin", "retired")}
    assert res.tried == ()


def test_default_crypt_rule_is_for_yaml_and_json_only(tmp_path: Path, keys: Keys) -> None:
    registry = _registry(tmp_path, registry_text(keys))
    kinds = {p: resolve(registry, p, today=TODAY).crypt_rule for p in (
        "core/a.yaml", "core/a.yml", "core/a.json", "core/a.env", "core/a.ini", "core/a.bin",
        "core/a.YAML")}
    assert kinds == {"core/a.yaml": K8S, "core/a.yml": K8S, "core/a.json": K8S,
                     "core/a.env": None, "core/a.ini": None, "core/a.bin": None,
                     "core/a.YAML": None}  # sops: case-sensitive suffix -> binary
    assert sops_format("core/a.YAML") == "binary"


def test_explicit_null_crypt_rule_and_later_rule(tmp_path: Path, keys: Keys) -> None:
    registry = _registry(tmp_path, registry_text(keys))
    res = resolve(registry, "docs/app.env", today=TODAY)
    assert res.rule_index == 3 and res.crypt_rule is None
    assert [r.index for r in res.tried] == [0, 1, 2]
    assert [k.name for k in res.keys] == ["flux-sandbox", "ops-admin"]


def test_bases_go_to_every_cluster(tmp_path: Path, keys: Keys) -> None:
    registry = _registry(tmp_path, registry_text(keys))
    res = resolve(registry, "./services/db/secret.yaml", today=TODAY)
    assert res.path == "services/db/secret.yaml" and res.rule_index == 2
    assert [k.name for k in res.keys] == ["flux-production", "flux-sandbox", "ops-admin"]


def test_no_rule_matches(tmp_path: Path, keys: Keys) -> None:
    registry = _registry(tmp_path, registry_text(keys))
    with pytest.raises(NoMatchingRule, match=r"no rule of the registry matches README\.md"):
        resolve(registry, "README.md", today=TODAY)
    assert resolve_or_none(registry, "README.md") is None


def test_expired_key_is_retired_with_a_warning(tmp_path: Path, keys: Keys) -> None:
    registry = _registry(tmp_path, registry_text(keys))
    res = resolve(registry, "clusters/sandbox/a.yaml", today=date(2030, 1, 11))
    assert [k.name for k in res.keys] == ["flux-sandbox"]
    assert ("ops-admin", "expired", "expired on 2030-01-10") in {
        (e.key.name, e.reason, e.detail) for e in res.excluded}
    assert res.warnings == ("key ops-admin expired on 2030-01-10: treated as retired",)
    still = resolve(registry, "clusters/sandbox/a.yaml", today=date(2030, 1, 10))
    assert "ops-admin" in [k.name for k in still.keys] and still.warnings == ()


def test_revoked_key_is_left_out(tmp_path: Path, keys: Keys) -> None:
    text = registry_text(keys).replace("    clusters: [sandbox]\n  flux-production",
                                       "    clusters: [sandbox]\n    status: revoked\n"
                                       "  flux-production")
    registry = _registry(tmp_path, text)
    res = resolve(registry, "clusters/sandbox/a.yaml", today=TODAY)
    assert [k.name for k in res.keys] == ["ops-admin"]
    assert ("flux-sandbox", "revoked") in {(e.key.name, e.reason) for e in res.excluded}


def test_key_groups_with_threshold(tmp_path: Path, keys: Keys) -> None:
    rules = """\
  - path: clusters/production/**
    key_groups:
      - [production]
      - {keys: [flux-sandbox]}
    shamir_threshold: 2
    mac_only_encrypted: true
"""
    registry = _registry(tmp_path, registry_text(keys, rules=rules))
    res = resolve(registry, "clusters/production/x.yaml", today=TODAY)
    assert res.key_groups == (
        frozenset({Recipient.age(keys.admin.recipient),
                   Recipient.age(keys.flux_production.recipient)}),
        frozenset({Recipient.age(keys.flux_sandbox.recipient)}))
    assert res.shamir_threshold == 2 and res.mac_only_encrypted
    assert res.clusters == ("production",)
    binary = resolve(registry, "clusters/production/x.bin", today=TODAY)
    assert not binary.mac_only_encrypted  # sops clears it for binary files


def test_key_by_recipient_knows_a_pgp_long_key_id(tmp_path: Path, keys: Keys) -> None:
    """sops stores a PGP key as typed in the config: a file naming the 16-hex long key id is
    read by the registry key with that fingerprint (audit and rekey name it, not "unknown")."""
    fpr = "0123456789ABCDEF0123456789ABCDEF01234567"
    registry = _registry(tmp_path, (
        "version: 1\nclusters:\n  prod: {}\nkeys:\n"
        f"  bot:\n    type: pgp\n    fingerprint: {fpr}\n    clusters: [prod]\n"
        "rules:\n  - path: '**'\n    clusters: [prod]\n"))
    assert registry.key_by_recipient(Recipient.pgp(fpr[-16:])).name == "bot"  # type: ignore[union-attr]
    assert registry.key_by_recipient(Recipient.pgp(fpr)).name == "bot"  # type: ignore[union-attr]
    assert registry.key_by_recipient(Recipient.pgp("FFFFFFFFFFFFFFFF")) is None
