"""Single features of the native engine, each checked against the real sops where it can be."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from sopskit.errors import NoIdentityError
from sopskit.identity.model import AgeIdentity, Identities
from sopskit.sopsfile import shamir
from sopskit.sopsfile.datakey import recover_data_key
from sopskit.sopsfile.decrypt import decrypt_document
from sopskit.sopsfile.document import detect_format, parse
from sopskit.sopsfile.gorender import format_f, format_g, format_json_float
from sopskit.sopsfile.verify import verify_document, verify_file
from sopskit.sopsfile.yamlscalar import resolve_plain
from tests.helpers import UPSTREAM, AgeKey, age_key
from tests.sopsfile.conftest import SopsMaker, sops_decrypt
from tests.sopsfile.test_generated import yaml_equal

TYPED = """\
d: 2024-01-01
b: 0777
c: 1e3
y: yes
o: on
f: .inf
g: 0o17
h: 1_000
i: 2024-01-01T10:00:00+02:00
j: 0x1F
k: 1.0
l: ~
m: ""
p: 0b101
q: 1e22
r: 0.1
s: TRUE
t: 2024-01-01 10:00:00.5
"""


def test_plaintext_values_typed_like_yaml_v3(make_sops: SopsMaker, age_ids: Identities) -> None:
    """All values stay plaintext, so the MAC covers their Go rendering: it must match."""
    path = make_sops("typed.yaml", TYPED, "--unencrypted-regex", "^[a-z]$")
    doc = parse(path.read_bytes(), path="typed.yaml", fmt="yaml")
    assert not any(leaf.encrypted for leaf in doc.leaves())
    report = verify_document(doc, recover_data_key(doc.metadata, age_ids, path="typed.yaml"))
    # the MAC matches; that nothing is encrypted is the one finding
    assert report.mac_checked and [p.check for p in report.problems] == ["no-encrypted-values"]


@pytest.mark.parametrize(("text", "expected"), [
    ("yes", "yes"), ("on", "on"), ("0777", 511), ("1_000", 1000), ("0x1F", 31), ("0o17", 15),
    ("0b101", 5), ("+12", 12), ("1e3", 1000.0), ("08", 8.0), ("true", True), ("TRUE", True),
    ("~", None), ("1e400", "1e400"), (".5", 0.5), ("-", "-"),
])
def test_resolve_plain(text: str, expected: object) -> None:
    value = resolve_plain(text)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(("value", "f", "g", "json"), [
    (1.0, "1", "1", "1"), (0.1, "0.1", "0.1", "0.1"), (1e22, "10000000000000000000000", "1e+22",
                                                       "1e+22"),
    (1234568000.0, "1234568000", "1.234568e+09", "1234568000"), (1e-7, "0.0000001", "1e-07",
                                                                 "1e-7"),
    (-2.5, "-2.5", "-2.5", "-2.5"), (float("inf"), "+Inf", "+Inf", "+Inf"),
])
def test_go_float_rendering(value: float, f: str, g: str, json: str) -> None:
    assert (format_f(value), format_g(value)) == (f, g)
    if value != float("inf"):
        assert format_json_float(value) == json


def test_gf256_sanity_vectors() -> None:
    assert shamir.mult(3, 7) == 9 and shamir.div(6, 3) == 2


def test_encrypted_comment_regex(make_sops: SopsMaker, age_ids: Identities,
                                 age_pair: AgeKey) -> None:
    text = "public: a\n# sops:enc\nsecret: b\nother: c\n"
    path = make_sops("ecr.yaml", text, "--encrypted-comment-regex", "sops:enc")
    doc = parse(path.read_bytes(), path="ecr.yaml", fmt="yaml")
    enc = {leaf.key_path for leaf in doc.leaves() if leaf.encrypted and not leaf.is_comment}
    assert enc == {"secret"}
    key = recover_data_key(doc.metadata, age_ids, path="ecr.yaml")
    assert verify_document(doc, key).ok
    yaml_equal(decrypt_document(doc, key), sops_decrypt(path, {"SOPS_AGE_KEY": age_pair.secret}))


def test_ssh_ed25519_recipient(make_sops: SopsMaker, tmp_path: Path) -> None:
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(key)],
                   check=True, capture_output=True, timeout=60)
    public = key.with_suffix(".pub").read_text().strip()
    path = make_sops("ssh.json", '{"a": "b"}', "--age", public,
                     env={"SOPS_AGE_SSH_PRIVATE_KEY_FILE": str(key)})
    doc = parse(path.read_bytes(), path="ssh.json", fmt="json")
    ids = Identities(age=(AgeIdentity(key.read_text(), public, "file", None, "ssh"),))
    data_key = recover_data_key(doc.metadata, ids, path="ssh.json")
    assert decrypt_document(doc, data_key) == sops_decrypt(
        path, {"SOPS_AGE_SSH_PRIVATE_KEY_FILE": str(key)})


def test_no_identity_names_recipients_not_secrets(make_sops: SopsMaker,
                                                  age_pair: AgeKey) -> None:
    path = make_sops("noid.yaml", "a: b\n")
    doc = parse(path.read_bytes(), path=str(path), fmt="yaml")
    other = age_key()
    ids = Identities(age=(AgeIdentity(other.secret, other.recipient, "t"),))
    with pytest.raises(NoIdentityError) as err:
        recover_data_key(doc.metadata, ids, path=str(path))
    text = str(err.value)
    assert age_pair.recipient in text and other.secret not in text and str(path) in text


def test_verify_without_identities_checks_structure_only(make_sops: SopsMaker) -> None:
    path = make_sops("nokey.yaml", "a: b\n")
    report = verify_file(path, Identities())
    assert report.ok and not report.mac_checked
    strict = verify_file(path, Identities(), require_mac=True)
    assert not strict.ok and strict.problems[0].check == "decrypt"


@pytest.mark.parametrize(("name", "override", "fmt"), [
    ("a.yml", None, "yaml"), ("a.JSON", None, "binary"), ("x.env", None, "dotenv"),
    ("x.ini", None, "ini"), ("x.txt", None, "binary"), ("noext", None, "binary"),
    ("x.env", "json", "json"), ("x.yaml", "nonsense", "yaml"),
])
def test_detect_format(name: str, override: str | None, fmt: str) -> None:
    assert detect_format(name, override) == fmt


def test_lines_on_leaves_of_every_text_format() -> None:
    def lines(name: str) -> dict[str, int | None]:
        doc = parse((UPSTREAM / name).read_bytes(), path=name, fmt=detect_format(name))
        return {leaf.key_path: leaf.line for leaf in doc.leaves() if not leaf.is_comment}

    assert lines("example.json")["address.city"] == 6
    assert lines("example.ini")["name.lastName"] == 4
    assert lines("format.enc.env")["foo "] == 1
    assert lines("example.yaml")["app2.db.password"] == 5


COMMENTS_EVERYWHERE = """\
# head of file
a: 1 # inline after value
b:
    # head of nested
    c: 2
    d:
        - x
        # between list items
        - y
        # after last list item
# before e
e: |
    block # not a comment
    text
f: "quoted # not a comment"
g:
    h:
        i: 3
        # foot of h
# end of document
"""


# Not included: a comment after a nested list, indented like the list's parent key
# ("    # foot of b" after "    d:\n        - y"). sops 3.11 encrypts it with AAD "b:" but
# re-reads it as a foot comment of the list ("b:d:"), so `sops --decrypt` cannot decrypt its
# own comment and prints it encrypted; sopskit reads it back in "b:" and decrypts it.
def test_comments_everywhere_decrypt_like_sops(make_sops: SopsMaker, age_ids: Identities,
                                               age_pair: AgeKey) -> None:
    path = make_sops("comments.yaml", COMMENTS_EVERYWHERE)
    doc = parse(path.read_bytes(), path="comments.yaml", fmt="yaml")
    key = recover_data_key(doc.metadata, age_ids, path="comments.yaml")
    assert verify_document(doc, key).ok
    ours = decrypt_document(doc, key)
    assert b"ENC[" not in ours  # every encrypted comment decrypted with the right AAD
    yaml_equal(ours, sops_decrypt(path, {"SOPS_AGE_KEY": age_pair.secret}))


def test_pure_python_composer_gives_the_same_tree(monkeypatch: pytest.MonkeyPatch,
                                                  make_sops: SopsMaker,
                                                  age_ids: Identities) -> None:
    """Without ruamel.yaml.clib the pure composer is used; the MAC must still verify."""
    from sopskit import yamlio

    path = make_sops("pure.yaml", TYPED + "# comment\nsecret: x\n", "--unencrypted-regex",
                     "^[a-z]$")
    fast = parse(path.read_bytes(), path="pure.yaml", fmt="yaml")
    monkeypatch.setattr(yamlio, "_FastComposer", None)
    pure = parse(path.read_bytes(), path="pure.yaml", fmt="yaml")
    assert list(pure.leaves()) == list(fast.leaves())
    key = recover_data_key(pure.metadata, age_ids, path="pure.yaml")
    assert verify_document(pure, key).ok
