"""Files made on the spot by the real sops: native verify passes and native decrypt equals
`sops --decrypt` (bytes for JSON/dotenv/INI/binary; data and comments for YAML)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sopskit.identity.model import AgeIdentity, Identities
from sopskit.sopsfile import yamlstore
from sopskit.sopsfile.datakey import recover_data_key
from sopskit.sopsfile.decrypt import decrypt_document
from sopskit.sopsfile.document import SopsDocument, detect_format, parse
from sopskit.sopsfile.tree import Branch, Comment, GoTime, Scalar, Seq
from sopskit.sopsfile.verify import verify_document
from tests.helpers import AgeKey, GpgHome, age_key
from tests.sopsfile.conftest import SopsMaker, sops_decrypt

RICH_YAML = """\
# top comment
name: sopskit ünïcode ✓
count: 42
negative: -7
octal: 0777
ratio: 0.1
one: 1.0
big: 1e22
inf: .inf
flag: true
off_flag: false
yes_string: yes
on_string: on
nothing: null
empty: ""
day: 2024-01-01
stamp: 2024-01-01T10:00:00+02:00
quoted_day: "2024-01-01"
multi: |
    line one
    line two
nested:
    # inside nested
    list:
        - a
        # between items
        - 2
        - inner: x
          deeper:
              - 1.5
              - false
    map: {k: v}
plain_unencrypted: stays
"""


def _norm(node: Any) -> Any:
    if isinstance(node, Branch):
        return [("#", i.text.strip()) if isinstance(i, Comment) else (i.key, _norm(i.value))
                for i in node]
    if isinstance(node, Seq):
        return [("#", i.text.strip()) if isinstance(i, Comment) else _norm(i) for i in node]
    if isinstance(node, Scalar):
        return str(node.value) if isinstance(node.value, GoTime) else node.value
    raise TypeError(node)


def yaml_equal(ours: bytes, theirs: bytes) -> None:
    mine = [_norm(b) for b in yamlstore.load(ours.decode(), path="ours")]
    real = [_norm(b) for b in yamlstore.load(theirs.decode(), path="sops")]
    assert mine == real


def native(path: Path, ids: Identities) -> tuple[SopsDocument, bytes]:
    doc = parse(path.read_bytes(), path=str(path), fmt=detect_format(path))
    key = recover_data_key(doc.metadata, ids, path=str(path))
    report = verify_document(doc, key)
    assert report.problems == [] and report.mac_checked
    return doc, decrypt_document(doc, key)


def _age_env(key: AgeKey) -> dict[str, str]:
    return {"SOPS_AGE_KEY": key.secret}


def test_rich_yaml_multidoc(make_sops: SopsMaker, age_ids: Identities,
                            age_pair: AgeKey) -> None:
    path = make_sops("rich.yaml", RICH_YAML + "---\nsecond: doc\nlist: [1, 2]\n")
    doc, ours = native(path, age_ids)
    assert len(doc.branches) == 2
    theirs = sops_decrypt(path, _age_env(age_pair))
    yaml_equal(ours, theirs)
    assert ours == theirs  # not required for YAML, but true for ordinary files
    values = {leaf.key_path: leaf for leaf in doc.leaves() if not leaf.is_comment}
    assert not values["plain_unencrypted"].encrypted
    assert values["count"].encrypted and values["count"].line == 3


@pytest.mark.parametrize(("name", "text"), [
    ("data.json", '{"a": "x", "n": 1, "f": 1.5, "big": 1e22, "t": true, "z": null, '
                  '"e": "", "html": "<&>", "u": "ünï", "l": [1, {"b": [2.0, "c"]}], '
                  '"o": {}, "arr": [], "a_unencrypted": "plain"}\n'),
    ("app.env", "# a comment\nDB_PASSWORD=hunter2\nEMPTY=\nSPACED = v \nMULTI=a\\nb\n"
                "KEY_unencrypted=visible\n"),
    ("app.ini", "; file comment\n[db]\nuser = admin\npassword = s3cr3t\n; key comment\n"
                "host = db.local\n\n[other section]\nk_unencrypted = hi there!\nlong_key = 1\n"),
    ("edge.ini", "top = 1\n# c0\n[s1]\n; c1\n; c1b\nk1 = v # trailing\nk2 = \"quoted\"\n"
                 "k3 : colon\nk4 = semi;colon\nlong key name = x\n\n[s2]\nz = \n"),
    ("dup.json", '{"a": "1", "a": "2", "b": [{"a": 1}, {"a": 1}]}'),
    ("blob.bin", "binary\x00 payload\nwith lines\n"),
    ("raw.bin", bytes(range(256)) * 4),
])
def test_every_store_matches_sops(make_sops: SopsMaker, age_ids: Identities,
                                  age_pair: AgeKey, name: str, text: str | bytes) -> None:
    path = make_sops(name, text)
    _, ours = native(path, age_ids)
    assert ours == sops_decrypt(path, _age_env(age_pair))


@pytest.mark.parametrize("flags", [
    ("--encrypted-regex", "^(data|stringData)$"),
    ("--unencrypted-regex", "^(kind|apiVersion)$"),
    ("--encrypted-suffix", "_secret"),
    ("--unencrypted-suffix", "_plain"),
    ("--mac-only-encrypted", "--encrypted-regex", "^data$"),
])
def test_crypt_rules(make_sops: SopsMaker, age_ids: Identities, age_pair: AgeKey,
                     flags: tuple[str, ...]) -> None:
    text = ("apiVersion: v1\nkind: Secret\nmetadata:\n    name: x\ndata:\n    pw: abc\n"
            "stringData:\n    token: t\nkey_secret: s\nkey_plain: p\n")
    path = make_sops(f"rule{abs(hash(flags))}.yaml", text, *flags)
    doc, ours = native(path, age_ids)
    yaml_equal(ours, sops_decrypt(path, _age_env(age_pair)))
    enc = {leaf.key_path for leaf in doc.leaves() if leaf.encrypted and not leaf.is_comment}
    assert "data.pw" in enc or "key_secret" in enc


def test_mac_only_encrypted_allows_plaintext_edit(make_sops: SopsMaker,
                                                  age_ids: Identities) -> None:
    path = make_sops("moe.yaml", "image: app:1.0\ndata:\n    pw: abc\n", "--mac-only-encrypted",
                     "--encrypted-regex", "^data$")
    edited = path.read_bytes().replace(b"image: app:1.0", b"image: app:2.0")
    doc = parse(edited, path="moe.yaml", fmt="yaml")
    assert doc.metadata.mac_only_encrypted
    key = recover_data_key(doc.metadata, age_ids, path="moe.yaml")
    assert verify_document(doc, key).ok


def test_shamir_two_of_three_groups(make_sops: SopsMaker, tmp_path: Path) -> None:
    keys = [age_key() for _ in range(3)]
    groups = "".join(f"      - age: [{k.recipient}]\n" for k in keys)
    (tmp_path / ".sops.yaml").write_text(
        f"creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n{groups}")
    path = make_sops("shamir.yaml", "a: secret\nb: [1, 2]\n", cwd=tmp_path,
                     env={"SOPS_AGE_KEY": "\n".join(k.secret for k in keys)})
    doc = parse(path.read_bytes(), path="shamir.yaml", fmt="yaml")
    assert len(doc.metadata.key_groups) == 3 and doc.metadata.threshold == 2
    two = Identities(age=tuple(AgeIdentity(k.secret, k.recipient, "t") for k in keys[1:]))
    key = recover_data_key(doc.metadata, two, path="shamir.yaml")
    assert verify_document(doc, key).ok
    expected = sops_decrypt(path, {"SOPS_AGE_KEY": "\n".join(k.secret for k in keys[1:])})
    yaml_equal(decrypt_document(doc, key), expected)
    one = Identities(age=(AgeIdentity(keys[0].secret, keys[0].recipient, "t"),))
    with pytest.raises(Exception, match="key groups without a usable key: 1, 2") as err:
        recover_data_key(doc.metadata, one, path="shamir.yaml")
    assert keys[0].secret not in str(err.value)


def test_pgp_file_made_by_sops(make_sops: SopsMaker, gpg_home: GpgHome) -> None:
    fp = gpg_home.fp  # type: ignore[attr-defined]
    path = make_sops("pgp.json", '{"k": "v", "n": 3}', "--pgp", fp,
                     env={"GNUPGHOME": str(gpg_home.path)})
    _, ours = native(path, Identities(gnupghome=gpg_home.path))
    assert ours == sops_decrypt(path, {"GNUPGHOME": str(gpg_home.path)})


EXOTIC_YAML = """\
a:
    - - - deep
        - x
      - {k: [1, {z: 2}]}
    - b: c
      # c1
      d: e
quotes: ['', ' ', 'trail ', "x\\ny", "multi\\nline\\n", "end\\n\\n", "it's", "1:30", "yes", "<<"]
k: "\\u00e9\\u2028\\ttab"
"key: with colon": 1
"123": numeric key
"""


def test_exotic_yaml_data_equal(make_sops: SopsMaker, age_ids: Identities,
                                age_pair: AgeKey) -> None:
    path = make_sops("exotic.yaml", EXOTIC_YAML)
    _, ours = native(path, age_ids)
    yaml_equal(ours, sops_decrypt(path, _age_env(age_pair)))
