"""encrypt_file: recipients and crypt rule from the policy, verified before any write."""

from __future__ import annotations

from pathlib import Path

import pytest

from sopskit.engine.encrypt import encrypt_file
from sopskit.engine.policy import decide
from sopskit.errors import InputError, UsageError, VerificationError
from sopskit.identity.model import AgeIdentity, Identities
from sopskit.recipient import Recipient
from sopskit.sops.binary import locate
from sopskit.sops.config import CreationRule
from sopskit.sops.runner import Sops
from tests.helpers import AgeKey, age_key


def ids(*keys: AgeKey) -> Identities:
    return Identities(tuple(AgeIdentity(k.secret, k.recipient, "t") for k in keys))


def test_in_place_with_option_recipients(tmp_path: Path, age: AgeKey) -> None:
    src = tmp_path / "s.env"
    src.write_text("A=1\nTOKEN=tok-secret-42\n")
    policy = decide(tmp_path, src, age=[age.recipient])
    done = encrypt_file(src, policy, repo=tmp_path, sops=Sops(locate(None), ids(age)),
                        identities=ids(age), output=src)
    assert done.mac_checked and done.written_to == src
    assert "tok-secret-42" not in src.read_text()


def test_without_own_key_mac_is_not_checked(tmp_path: Path) -> None:
    other = age_key()
    src = tmp_path / "s.json"
    src.write_text('{"a": "b"}')
    done = encrypt_file(src, decide(tmp_path, src, age=[other.recipient]), repo=tmp_path,
                        sops=Sops(locate(None), Identities()), identities=Identities())
    assert not done.mac_checked and done.written_to is None
    assert b'"mac": "ENC[' in done.ciphertext


@pytest.mark.parametrize("text", ['{"a": "b", "name": "n-1",', '{"a": 1} {"b": 2}'])
def test_invalid_json_is_refused_before_sops(tmp_path: Path, text: str) -> None:
    """sops 3.11 encrypts truncated JSON as what it read so far (`{"a": "b"}`); without a key
    of ours nothing else would notice, and -i would replace the file with less data."""
    src = tmp_path / "s.json"
    src.write_text(text)
    with pytest.raises(InputError, match="invalid JSON") as err:
        encrypt_file(src, decide(tmp_path, src, age=[age_key().recipient]), repo=tmp_path,
                     sops=Sops(locate(None), Identities()), identities=Identities(),
                     output=src)
    assert err.value.line == 1 and "n-1" not in str(err.value)
    assert src.read_text() == text


def test_sops_yaml_rule_and_option_override(tmp_path: Path, age: AgeKey) -> None:
    other = age_key()
    (tmp_path / ".sops.yaml").write_text(
        f"creation_rules:\n  - path_regex: secrets/\n    age: {other.recipient}\n"
        f"    encrypted_suffix: _enc\n")
    src = tmp_path / "secrets" / "a.yaml"
    src.parent.mkdir()
    src.write_text("pw_enc: x\n")
    from_config = decide(tmp_path, src)
    assert from_config.recipients == {Recipient.age(other.recipient)}
    assert from_config.sops_config == tmp_path / ".sops.yaml"
    overridden = decide(tmp_path, src, age=[age.recipient])
    assert overridden.recipients == {Recipient.age(age.recipient)}
    assert overridden.rule.crypt_rule is not None
    assert overridden.rule.crypt_rule.kind == "encrypted_suffix"


def test_already_encrypted_refused(tmp_path: Path, age: AgeKey) -> None:
    src = tmp_path / "s.yaml"
    src.write_text("a: secret\n")
    sops = Sops(locate(None), ids(age))
    policy = decide(tmp_path, src, age=[age.recipient])
    encrypt_file(src, policy, repo=tmp_path, sops=sops, identities=ids(age), output=src)
    before = src.read_bytes()
    with pytest.raises(UsageError, match="already encrypted"):
        encrypt_file(src, policy, repo=tmp_path, sops=sops, identities=ids(age), output=src)
    assert src.read_bytes() == before


def test_recipient_mismatch_is_refused(tmp_path: Path, age: AgeKey) -> None:
    """sops obeys the repository's .sops.yaml; a policy expecting others is not written."""
    src = tmp_path / "s.yaml"
    src.write_text("a: secret\n")
    (tmp_path / ".sops.yaml").write_text(f"creation_rules:\n  - age: {age.recipient}\n")
    policy = decide(tmp_path, src)
    wrong = type(policy)(policy.rule.__class__.single([Recipient.age(age_key().recipient)]),
                         sops_config=policy.sops_config)
    with pytest.raises(VerificationError) as err:
        encrypt_file(src, wrong, repo=tmp_path, sops=Sops(locate(None), ids(age)),
                     identities=ids(age), output=src)
    assert err.value.check == "recipients"
    assert src.read_text() == "a: secret\n"


def test_key_group_mismatch_is_refused(tmp_path: Path, age: AgeKey) -> None:
    """Two groups (both keys needed) and one group of the same keys (either key alone
    decrypts) have the same recipients: the grouping and threshold are checked too."""
    import dataclasses

    other = age_key()
    src = tmp_path / "s.yaml"
    src.write_text("a: secret\n")
    (tmp_path / ".sops.yaml").write_text(
        f"creation_rules:\n  - key_groups:\n      - age: [{age.recipient}]\n"
        f"      - age: [{other.recipient}]\n")
    policy = decide(tmp_path, src)
    assert len(policy.rule.key_groups) == 2
    one_group = dataclasses.replace(policy, rule=CreationRule.single(policy.recipients))
    with pytest.raises(VerificationError, match="key groups differ") as err:
        encrypt_file(src, one_group, repo=tmp_path, sops=Sops(locate(None), ids(age)),
                     identities=ids(age), output=src)
    assert err.value.check == "recipients"
    assert src.read_text() == "a: secret\n"
    done = encrypt_file(src, policy, repo=tmp_path, sops=Sops(locate(None), ids(age)),
                        identities=ids(age))
    assert b"key_groups" in done.ciphertext


def test_crypt_rule_mismatch_is_refused(tmp_path: Path, age: AgeKey) -> None:
    """sops used the config's rule (all values); a policy asking for encrypted_regex is not
    satisfied, so nothing is written."""
    import dataclasses

    from sopskit.sopsfile.model import CryptRule

    src = tmp_path / "s.yaml"
    src.write_text("kind: Secret\nstringData:\n  pw: secret\n")
    (tmp_path / ".sops.yaml").write_text(f"creation_rules:\n  - age: {age.recipient}\n")
    policy = decide(tmp_path, src)
    wrong = dataclasses.replace(policy, rule=dataclasses.replace(
        policy.rule, crypt_rule=CryptRule("encrypted_regex", "^stringData$")))
    with pytest.raises(VerificationError) as err:
        encrypt_file(src, wrong, repo=tmp_path, sops=Sops(locate(None), ids(age)),
                     identities=ids(age), output=src)
    assert err.value.check == "crypt-rule"
    assert "not by the requested encrypted_regex='^stringData$'" in err.value.message
    assert src.read_text() == "kind: Secret\nstringData:\n  pw: secret\n"
    mac_only = dataclasses.replace(policy, rule=dataclasses.replace(
        policy.rule, mac_only_encrypted=True))
    with pytest.raises(VerificationError, match="mac_only_encrypted is false, not the "
                       "requested true"):
        encrypt_file(src, mac_only, repo=tmp_path, sops=Sops(locate(None), ids(age)),
                     identities=ids(age), output=src)
    assert src.read_text() == "kind: Secret\nstringData:\n  pw: secret\n"


@pytest.mark.parametrize(("age_opt", "pgp_opt"), [
    (["age1notvalid"], []), ([], ["not-a-fingerprint"]), (["age1qqq,"], []),
])
def test_invalid_option_recipients_are_usage_errors(tmp_path: Path, age_opt: list[str],
                                                    pgp_opt: list[str]) -> None:
    with pytest.raises(UsageError, match="not a"):
        decide(tmp_path, tmp_path / "x.yaml", age=age_opt, pgp=pgp_opt)


def test_comma_lists_and_ssh_recipients_accepted(tmp_path: Path) -> None:
    a, b = age_key(), age_key()
    ssh = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq7 user@host"
    policy = decide(tmp_path, tmp_path / "x.yaml", age=[f"{a.recipient},{b.recipient}", ssh])
    assert policy.recipients == {Recipient.age(a.recipient), Recipient.age(b.recipient),
                                 Recipient.age(ssh)}
