"""review.merge on every text store the real sops writes: edits of different keys merge
(the real sops decrypts the result), edits of one key conflict and name it."""

from __future__ import annotations

from pathlib import Path

import pytest

from sopskit.engine.setvalue import set_value
from sopskit.identity.model import AgeIdentity, Identities
from sopskit.review.merge import MergeConflict, merge_bytes
from sopskit.sopsfile.document import detect_format
from tests.helpers import UPSTREAM, AgeKey, GpgHome, run_sops


@pytest.mark.parametrize(("name", "plain", "ours", "theirs", "expect"), [
    ("a.env", "A=1\n#c\nB=2\nC=3\n", ("A",), ("C",), "A=ours-v\n#c\nB=2\nC=theirs-v\n"),
    ("a.json", '{"a": {"x": 1, "y": [1, 2]}, "b": "s"}', ("a", "x"), ("b",),
     '{\n\t"a": {\n\t\t"x": "ours-v",\n\t\t"y": [\n\t\t\t1,\n\t\t\t2\n\t\t]\n\t},\n'
     '\t"b": "theirs-v"\n}\n'),
    ("a.ini", "[s]\nk = v\nj = w\n[t]\nm = n\n", ("s", "k"), ("t", "m"),
     "[s]\nk = ours-v\nj = w\n\n[t]\nm = theirs-v\n"),
])
def test_stores(tmp_path: Path, age: AgeKey, name: str, plain: str, ours: tuple[str, ...],
                theirs: tuple[str, ...], expect: str) -> None:
    ids = Identities((AgeIdentity(age.secret, age.recipient, "t"),))
    path = tmp_path / name
    path.write_text(plain)
    assert run_sops("encrypt", "-i", "--age", age.recipient, path, env={}).returncode == 0
    base = path.read_bytes()
    sides = []
    for tree_path, value in ((ours, "ours-v"), (theirs, "theirs-v"), (ours, "other-v")):
        path.write_bytes(base)
        set_value(path, tree_path, value, repo=tmp_path, identities=ids)
        sides.append(path.read_bytes())
    fmt = detect_format(name)
    path.write_bytes(merge_bytes(base, sides[0], sides[1], path=name, fmt=fmt, identities=ids))
    done = run_sops("decrypt", path, env={"SOPS_AGE_KEY": age.secret})
    assert done.stdout.decode() == expect
    with pytest.raises(MergeConflict) as err:
        merge_bytes(base, sides[0], sides[2], path=name, fmt=fmt, identities=ids)
    assert err.value.conflicts == [".".join(ours)] and "ours-v" not in str(err.value)


def test_upstream_pgp_example(tmp_path: Path, upstream_gpg: GpgHome) -> None:
    """sops' own example.yaml (PGP via the real gpg; comments, lists, a multi-line key):
    both sides' edits merge, the comment keeps its ciphertext, the real sops decrypts it."""
    ids = Identities(gnupghome=upstream_gpg.path)
    path = tmp_path / "example.yaml"
    base = (UPSTREAM / "example.yaml").read_bytes()
    sides = []
    for tree_path, value in ((("app2", "db", "password"), "ours-v"), (("myapp1",), "theirs-v")):
        path.write_bytes(base)
        set_value(path, tree_path, value, repo=tmp_path, identities=ids)
        sides.append(path.read_bytes())
    merged = merge_bytes(base, sides[0], sides[1], path="example.yaml", fmt="yaml",
                         identities=ids)
    path.write_bytes(merged)
    plain = run_sops("decrypt", path, env={"GNUPGHOME": str(upstream_gpg.path)}).stdout.decode()
    want = (UPSTREAM / "decrypted" / "example.yaml").read_text()
    want = want.replace("password: c4r1b0u", "password: ours-v").replace(
        "myapp1: t00m4nys3cr3tzupdated", "myapp1: theirs-v")
    assert plain == want
    comment = [ln for ln in base.decode().splitlines() if "type:comment" in ln]
    assert comment and all(ln in merged.decode() for ln in comment)
