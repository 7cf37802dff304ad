"""Every validation rule of the registry: each problem names the file, line and key path,
and all problems of a file are reported together."""

from __future__ import annotations

from pathlib import Path

import pytest

from sopskit.errors import ConfigError, ExitCode
from sopskit.registry.schema import load_registry
from tests.helpers import GpgHome, age_key
from tests.registry.conftest import Keys, registry_text


def problems_of(path: Path) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as info:
        load_registry(path)
    assert info.value.exit_code == ExitCode.OPERATIONAL
    return info.value.problems


def at(text: str, needle: str, nth: int = 0) -> int:
    """The 1-based line number of the nth line containing `needle`."""
    return [i for i, ln in enumerate(text.splitlines(), 1) if needle in ln][nth]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "registry.yaml"
    path.write_text(text)
    return path


def test_the_test_registry_is_valid(tmp_path: Path, keys: Keys) -> None:
    registry = load_registry(write(tmp_path, registry_text(keys)))
    assert list(registry.keys) == ["ops-admin", "flux-sandbox", "flux-production", "old-admin"]
    assert [r.path for r in registry.rules] == ["clusters/production/**", "clusters/sandbox/**",
                                                "{core,services,apps}/**", "**/*.env"]
    assert registry.keys["ops-admin"].line == at(registry_text(keys), "ops-admin:")
    assert registry.warnings == ()


def test_unknown_key_with_suggestion(tmp_path: Path, keys: Keys) -> None:
    text = registry_text(keys).replace("    encrypted_regex: null",
                                       "    encrypted-regex: null")
    path = write(tmp_path, text)
    (problem,) = problems_of(path)
    line = at(text, "encrypted-regex")
    assert problem == (f"{path}:{line}: rules[3].encrypted-regex: unknown key, did you mean"
                       " encrypted_regex?")


def test_unknown_top_level_and_key_fields(tmp_path: Path, keys: Keys) -> None:
    text = registry_text(keys).replace("version: 1", "version: 1\ncluster: {}").replace(
        "    owner: platform-team@example.com", "    ower: platform-team@example.com")
    found = problems_of(write(tmp_path, text))
    assert any("cluster: unknown key, did you mean clusters?" in p for p in found)
    assert any("keys.ops-admin.ower: unknown key, did you mean owner?" in p for p in found)


def test_bad_age_checksum(tmp_path: Path, keys: Keys) -> None:
    good = keys.flux_sandbox.recipient
    bad = good[:-1] + ("q" if good[-1] != "q" else "p")  # one changed character
    text = registry_text(keys).replace(good, bad)
    path = write(tmp_path, text)
    (problem,) = problems_of(path)
    assert f":{at(text, bad)}: keys.flux-sandbox.recipient: invalid age recipient: bad bech32" in problem


def test_not_an_age_recipient(tmp_path: Path, keys: Keys) -> None:
    path = write(tmp_path, registry_text(keys).replace(keys.old.recipient, "AGE-SECRET-KEY-1X"))
    (problem,) = problems_of(path)
    assert "keys.old-admin.recipient: not an age recipient" in problem
    assert "AGE-SECRET-KEY" not in problem  # never echo what might be a secret


PGP_KEY = """\
  release-bot:
    type: pgp
    fingerprint: {fp}
    clusters: [production]
"""


@pytest.mark.parametrize("fp", ["0123456789ABCDEF0123456789ABCDEF0123456",  # 39
                                "0123456789ABCDEF0123456789ABCDEF0123456G",
                                "not a fingerprint"])
def test_malformed_fingerprint(tmp_path: Path, keys: Keys, fp: str) -> None:
    text = registry_text(keys, extra_keys=PGP_KEY.format(fp=fp))
    path = write(tmp_path, text)
    (problem,) = problems_of(path)
    assert "keys.release-bot.fingerprint: malformed PGP fingerprint: expected 40 hex" in problem
    assert f"{path}:{at(text, 'fingerprint:')}:" in problem


def test_fingerprint_with_spaces_is_normalised(tmp_path: Path, keys: Keys) -> None:
    spaced = "0123 4567 89ab cdef 0123  4567 89AB CDEF 0123 4567"
    registry = load_registry(write(tmp_path, registry_text(
        keys, extra_keys=PGP_KEY.format(fp=f'"{spaced}"'))))
    assert registry.keys["release-bot"].recipient.id == "0123456789ABCDEF0123456789ABCDEF01234567"


def test_public_key_must_match_fingerprint(tmp_path: Path, keys: Keys,
                                           gpg_home: GpgHome) -> None:
    other = GpgHome()
    try:
        other_fp = other.generate("other <other@example.invalid>")
        (tmp_path / "pgp").mkdir()
        (tmp_path / "pgp" / "bot.asc").write_bytes(other.export_public(other_fp))
        (tmp_path / "pgp" / "secret.asc").write_bytes(
            other.gpg("--armor", "--export-secret-keys", other_fp).stdout)
    finally:
        other.close()
    fp = gpg_home.fp  # type: ignore[attr-defined]
    extra = PGP_KEY.format(fp=fp) + "    public_key: pgp/bot.asc\n"
    extra += PGP_KEY.format(fp=other_fp).replace("release-bot", "leaky") + \
        "    public_key: pgp/secret.asc\n"
    extra += PGP_KEY.format(fp=other_fp[::-1]).replace("release-bot", "missing") + \
        "    public_key: pgp/none.asc\n"
    found = problems_of(write(tmp_path, registry_text(keys, extra_keys=extra)))
    assert any(f"keys.release-bot.public_key: pgp/bot.asc holds key {other_fp}, not the"
               f" fingerprint {fp}" in p for p in found)
    assert any("keys.leaky.public_key: pgp/secret.asc holds a PRIVATE key" in p for p in found)
    assert any("keys.missing.public_key: file not found: pgp/none.asc" in p for p in found)


def test_public_key_that_matches(tmp_path: Path, keys: Keys, gpg_home: GpgHome) -> None:
    fp = gpg_home.fp  # type: ignore[attr-defined]
    (tmp_path / "bot.asc").write_bytes(gpg_home.export_public(fp))
    extra = PGP_KEY.format(fp=fp.lower()) + "    public_key: bot.asc\n"
    registry = load_registry(write(tmp_path, registry_text(keys, extra_keys=extra)))
    assert registry.keys["release-bot"].public_key == (tmp_path / "bot.asc").resolve()


def test_unknown_clusters(tmp_path: Path, keys: Keys) -> None:
    text = registry_text(keys).replace("clusters: [sandbox]\n  flux-production",
                                       "clusters: [sandbx]\n  flux-production")
    text = text.replace("    clusters: [sandbox, production]", "    clusters: [staging]")
    found = problems_of(write(tmp_path, text))
    assert any("keys.flux-sandbox.clusters: unknown cluster 'sandbx', did you mean sandbox?"
               in p for p in found)
    assert any("rules[2].clusters: unknown cluster 'staging'" in p for p in found)


def test_duplicate_recipients_and_names(tmp_path: Path, keys: Keys) -> None:
    dup = f"""\
  copy-of-admin:
    type: age
    recipient: {keys.admin.recipient}
    clusters: [sandbox]
"""
    found = problems_of(write(tmp_path, registry_text(keys, extra_keys=dup)))
    assert any("keys.copy-of-admin: same age recipient as keys.ops-admin (a duplicate key)"
               in p for p in found)
    text = registry_text(keys, extra_keys=dup.replace("copy-of-admin", "flux-sandbox"))
    (problem,) = problems_of(write(tmp_path, text))
    assert "duplicate key" in problem and f":{at(text, 'flux-sandbox:', 1)}" in problem


def test_shadowed_rules(tmp_path: Path, keys: Keys) -> None:
    rules = """\
  - path: clusters/**
    clusters: [sandbox]
  - path: clusters/production/**
    clusters: [production]
  - path: "**/*.yaml"
    clusters: [sandbox]
  - path: "**/*.yml"
    clusters: [sandbox]
  - path: "apps/*.{yaml,yml}"
    clusters: [production]
  - path: "apps/*.json"
    clusters: [production]
"""
    text = registry_text(keys, rules=rules)
    path = write(tmp_path, text)
    found = problems_of(path)
    assert len(found) == 2
    assert (f"{path}:{at(text, 'clusters/production/**')}: rules[1].path: can never match: every path matching"
            " 'clusters/production/**' is matched first by rules[0] ('clusters/**')") in found[0]
    assert "rules[4].path: can never match" in found[1]
    assert "rules[2] ('**/*.yaml') and rules[3] ('**/*.yml') together" in found[1]


def test_a_rule_that_still_matches_something_is_not_shadowed(tmp_path: Path,
                                                             keys: Keys) -> None:
    rules = """\
  - path: "clusters/*/?*.yaml"
    clusters: [sandbox]
  - path: "clusters/*/*.yaml"
    clusters: [production]
  - path: "clusters/**"
    clusters: [production]
"""
    # rules[1] adds only names like "clusters/x/.yaml": still a real path, so not shadowed
    registry = load_registry(write(tmp_path, registry_text(keys, rules=rules)))
    assert len(registry.rules) == 3


def test_dates_in_the_wrong_order_and_bad_dates(tmp_path: Path, keys: Keys) -> None:
    text = registry_text(keys).replace("expires: 2030-01-10", "expires: 2025-01-10")
    text = text.replace("    clusters: [production]\n  old-admin",
                        "    clusters: [production]\n    created: 10/01/2026\n  old-admin")
    found = problems_of(write(tmp_path, text))
    assert any(f":{at(text, 'expires:')}: keys.ops-admin.expires: 2025-01-10 is before created (2026-01-10)" in p
               for p in found)
    assert any("keys.flux-production.created: not a date (use YYYY-MM-DD)" in p for p in found)


def test_more_than_one_crypt_rule(tmp_path: Path, keys: Keys) -> None:
    text = registry_text(keys).replace("    encrypted_regex: null",
                                       "    encrypted_regex: ^data$\n    unencrypted_suffix: _x")
    (problem,) = problems_of(write(tmp_path, text))
    assert ("rules[3]: more than one crypt rule (encrypted_regex, unencrypted_suffix): sops"
            " applies exactly one") in problem


def test_crypt_regex_must_work_in_go(tmp_path: Path, keys: Keys) -> None:
    text = registry_text(keys).replace("    encrypted_regex: null",
                                       "    encrypted_regex: ^(?!kind)")
    (problem,) = problems_of(write(tmp_path, text))
    assert "rules[3].encrypted_regex: not a valid RE2 regular expression (invalid perl " \
        "operator: (?!)" in problem


def test_unknown_status(tmp_path: Path, keys: Keys) -> None:
    text = registry_text(keys).replace("status: retired", "status: disabled")
    (problem,) = problems_of(write(tmp_path, text))
    assert "keys.old-admin.status: unknown status 'disabled' (active, retired or revoked)" in \
        problem


def test_every_problem_is_listed_at_once(tmp_path: Path, keys: Keys) -> None:
    text = registry_text(keys).replace("version: 1", "version: 2").replace(
        "type: age\n    recipient: " + keys.old.recipient, "type: rsa\n    recipient: x")
    text = text.replace("  - path: clusters/sandbox/**", "  - path: clusters//sandbox")
    found = problems_of(write(tmp_path, text))
    assert len(found) == 3
    assert "version: must be 1" in found[0]
    assert "keys.old-admin.type: must be one of age, pgp, kms, gcp_kms, azure_kv, hc_vault, hckms" in found[1]
    assert "rules[1].path: invalid glob 'clusters//sandbox'" in found[2]


def test_key_groups_and_threshold(tmp_path: Path, keys: Keys) -> None:
    rules = """\
  - path: clusters/production/**
    key_groups:
      - [production]
      - {keys: [ops-admin, nobody]}
    shamir_threshold: 3
"""
    found = problems_of(write(tmp_path, registry_text(keys, rules=rules)))
    assert any("rules[0].key_groups[1].keys: unknown key 'nobody'" in p for p in found)
    assert any("rules[0].shamir_threshold: must be a whole number from 1 to 2" in p
               for p in found)


def test_invalid_yaml_and_duplicate_mapping_keys(tmp_path: Path, keys: Keys) -> None:
    text = registry_text(keys).replace("  old-admin:", "  ops-admin:")
    (problem,) = problems_of(write(tmp_path, text))
    assert "invalid YAML" in problem and "duplicate key" in problem
    assert f":{at(text, 'ops-admin:', 1)}" in problem


def test_rule_without_active_keys_is_a_warning(tmp_path: Path) -> None:
    key = age_key()
    text = f"""\
version: 1
clusters: {{sandbox: {{}}, production: {{}}}}
keys:
  a: {{type: age, recipient: {key.recipient}, clusters: [sandbox]}}
rules:
  - {{path: "clusters/production/**", clusters: [production]}}
"""
    registry = load_registry(write(tmp_path, text))
    assert registry.warnings == ("rules[0] (clusters/production/**): no active key serves it;"
                                 " files there cannot be encrypted",)


def test_empty_key_group_is_a_warning(tmp_path: Path, keys: Keys) -> None:
    rules = """\
  - path: clusters/production/**
    key_groups:
      - [production]
      - {keys: [old-admin]}
"""
    registry = load_registry(write(tmp_path, registry_text(keys, rules=rules)))
    assert registry.warnings == ("rules[0].key_groups[1]: no active key in the group; sops"
                                 " refuses to encrypt with an empty key group",)


@pytest.mark.parametrize("version", ["true", "1.0", '"1"'])
def test_version_must_be_the_integer_1(tmp_path: Path, keys: Keys, version: str) -> None:
    text = registry_text(keys).replace("version: 1", f"version: {version}")
    path = write(tmp_path, text)
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:{at(text, 'version:')}: version: must be 1")


def test_sections_of_the_wrong_type_name_their_line(tmp_path: Path) -> None:
    text = "version: 1\nclusters: {a: }\ndefaults: x\nkeys: 3\nrules: {}\n"
    path = write(tmp_path, text)
    assert set(problems_of(path)) == {
        f"{path}:3: defaults: must be a mapping",
        f"{path}:4: keys: must be a mapping of key names",
        f"{path}:5: rules: must be a list of rules (first match wins)",
    }


def test_a_key_for_every_cluster_and_one_is_still_an_admin_key(tmp_path: Path,
                                                                keys: Keys) -> None:
    """`clusters: ["*", sandbox]` serves every cluster: it never goes into a cluster's
    decryption Secret (its private key would then sit in the cluster), and `flux check`
    does not count it as the cluster's own key."""
    from sopskit.flux import check
    from sopskit.flux.decryption_secret import admin_keys, cluster_keys

    text = registry_text(keys).replace('    clusters: ["*"]\n', '    clusters: ["*", sandbox]\n', 1)
    registry = load_registry(write(tmp_path, text))
    assert registry.keys["ops-admin"].clusters == ("*", "sandbox")
    assert [k.name for k in cluster_keys(registry, "sandbox")] == ["flux-sandbox"]
    assert [k.name for k in check.cluster_keys(registry, "sandbox")] == ["flux-sandbox"]
    assert "ops-admin" in [k.name for k in admin_keys(registry)]
