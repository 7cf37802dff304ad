"""Native reading of .sops.yaml creation rules agrees with the rule the real sops picks."""

from __future__ import annotations

from pathlib import Path

import pytest

from sopskit.errors import ConfigError
from sopskit.recipient import Recipient
from sopskit.sops.config import CreationRule, render, rule_for
from sopskit.sopsfile.model import CryptRule
from tests.helpers import age_key, run_sops


def write(tmp_path: Path, text: str) -> Path:
    cfg = tmp_path / ".sops.yaml"
    cfg.write_text(text)
    return cfg


def test_first_match_wins_relative_to_config_dir(tmp_path: Path) -> None:
    a, b = age_key(), age_key()
    cfg = write(tmp_path, f"""creation_rules:
  - path_regex: prod/.*\\.yaml$
    age: {a.recipient}
    encrypted_regex: ^(data|stringData)$
  - age: "{a.recipient}, {b.recipient}"
""")
    prod = rule_for(cfg, tmp_path / "clusters" / "prod" / "s.yaml")
    assert prod.recipients == {Recipient.age(a.recipient)}
    assert prod.crypt_rule == CryptRule("encrypted_regex", "^(data|stringData)$")
    other = rule_for(cfg, tmp_path / "apps" / "x.env")
    assert other.recipients == {Recipient.age(a.recipient), Recipient.age(b.recipient)}
    assert other.crypt_rule is None


def test_key_groups_and_pgp_lists(tmp_path: Path) -> None:
    a = age_key()
    cfg = write(tmp_path, f"""creation_rules:
  - shamir_threshold: 2
    key_groups:
      - age: ["{a.recipient}"]
      - pgp: ["fbc7 b9e2 a4f9 289a c0c1 d484 3d16 cee4 a273 81b4"]
""")
    rule = rule_for(cfg, tmp_path / "x.yaml")
    assert len(rule.key_groups) == 2
    assert Recipient.pgp("FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4") in rule.recipients
    assert rule.shamir_threshold == 2


def test_no_match_and_two_crypt_rules_are_errors(tmp_path: Path) -> None:
    cfg = write(tmp_path, "creation_rules:\n  - path_regex: ^only$\n    age: age1x\n")
    with pytest.raises(ConfigError, match="no creation rule"):
        rule_for(cfg, tmp_path / "other.yaml")
    cfg = write(tmp_path, "creation_rules:\n  - age: age1x\n    encrypted_regex: a\n"
                          "    unencrypted_suffix: b\n")
    with pytest.raises(ConfigError, match="more than one crypt rule"):
        rule_for(cfg, tmp_path / "x.yaml")


def test_rendered_config_is_obeyed_by_real_sops(tmp_path: Path) -> None:
    a, b = age_key(), age_key()
    rule = CreationRule.single([Recipient.age(a.recipient), Recipient.age(b.recipient)],
                               crypt_rule=CryptRule("encrypted_suffix", "_secret"),
                               mac_only_encrypted=True)
    cfg = write(tmp_path, render(rule))
    done = run_sops("--config", cfg, "encrypt", "--filename-override", "x.yaml",
                    env={}, input=b"pw_secret: hunter2\nname: app\n")
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode()
    assert "name: app" in text and "hunter2" not in text
    assert a.recipient in text and b.recipient in text
    assert "encrypted_suffix: _secret" in text and "mac_only_encrypted: true" in text


@pytest.mark.parametrize(("field", "message"), [
    ("encrypted_regex: '^(data'", "encrypted_regex is not a valid RE2 regular expression"),
    ("unencrypted_suffix: {x: 1}", "unencrypted_suffix must be a string"),
    ("shamir_threshold: two", "shamir_threshold must be a whole number"),
    ("mac_only_encrypted: 'no'", "mac_only_encrypted must be true or false"),
])
def test_rule_fields_sops_would_misread_are_config_errors(tmp_path: Path, field: str,
                                                          message: str) -> None:
    """An invalid encrypted_regex makes sops encrypt nothing; the others used to surface
    as a traceback (exit 4) or a wrong expectation after sops had run."""
    cfg = write(tmp_path, f"creation_rules:\n  - age: {age_key().recipient}\n    {field}\n")
    with pytest.raises(ConfigError, match=message):
        rule_for(cfg, tmp_path / "s.yaml")
