"""A registry stating the policy of a real repository's hand-written .sops.yaml
(home-ops, 2022-06: one age key, three path rules) renders to an equivalent config: the same
recipients and crypt rule for each of its 39 sops files, matched through both configs'
regexes as sops matches them."""

from __future__ import annotations

import shutil
from pathlib import Path

from sopskit.registry.resolve import resolve
from sopskit.registry.schema import load_registry
from sopskit.registry.sops_config import render
from sopskit.sops.config import rule_for
from sopskit.sopsfile.document import detect_format, parse
from tests.helpers import REAL_WORLD

AGE = "age15uzrw396e67z9wdzsxzdk7ka0g2gr3l460e0slaea563zll3hdfqwqxdta"
REGISTRY = f"""\
version: 1
clusters:
  home: {{description: "the one cluster"}}
keys:
  home-ops:
    type: age
    recipient: {AGE}
    clusters: [home]
rules:
  - path: "cluster/**/*.sops.{{yaml,yml}}"
    clusters: [home]
    encrypted_regex: ^(data|stringData)$
  - path: "ansible/**/*.sops.{{yaml,yml}}"
    clusters: [home]
    unencrypted_regex: ^(kind)$
  - path: "terraform/**/*.sops.{{yaml,yml}}"
    clusters: [home]
    unencrypted_regex: ^(kind)$
"""


def sops_files() -> list[Path]:
    return sorted(p for p in REAL_WORLD.rglob("*.sops.*") if p.name != ".sops.yaml")


def test_rendered_config_is_equivalent_on_every_sops_file(tmp_path: Path) -> None:
    files = sops_files()
    assert len(files) == 39
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "registry.yaml").write_text(REGISTRY)
    registry = load_registry(tmp_path / "keys" / "registry.yaml")
    ours = tmp_path / ".sops.yaml"
    ours.write_text(render(registry))
    theirs = tmp_path / "theirs" / ".sops.yaml"
    theirs.parent.mkdir()
    shutil.copyfile(REAL_WORLD / ".sops.yaml", theirs)
    for path in files:
        rel = path.relative_to(REAL_WORLD).as_posix()
        original = rule_for(theirs, theirs.parent / rel)
        generated = rule_for(ours, tmp_path / rel)
        assert generated.recipients == original.recipients, rel
        assert generated.crypt_rule == original.crypt_rule, rel
        res = resolve(registry, rel)
        assert (res.recipients, res.crypt_rule) == (original.recipients, original.crypt_rule)
        # and the files themselves were written under that policy
        doc = parse(path.read_bytes(), path=rel, fmt=detect_format(path))
        assert doc.metadata.recipients == res.recipients, rel
        assert doc.metadata.crypt_rule == res.crypt_rule, rel
