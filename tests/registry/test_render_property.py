"""For random registries (random globs, clusters, crypt overrides), the rendered .sops.yaml,
matched as sops matches it (sopskit.sops.config, first path_regex found), gives every random
path the recipients, crypt rule and MAC mode that resolve() gives it."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sopskit.errors import ConfigError
from sopskit.registry.resolve import resolve_or_none
from sopskit.registry.schema import parse_registry
from sopskit.registry.sops_config import render
from sopskit.sops.config import rule_for
from tests.helpers import age_key

TODAY = date(2026, 11, 25)
KEYS = [age_key().recipient for _ in range(3)]
BASE = Path(tempfile.mkdtemp(prefix="sopskit-prop-"))

_seg = st.sampled_from(["a", "b", "*", "?", "[ab]", "{a,b}", "*.yaml", "*.env", "x.json",
                        "*.{yaml,env}", "**"])
_glob = st.lists(_seg, min_size=1, max_size=3).map("/".join)
_crypt = st.sampled_from(["", "    encrypted_regex: null\n", "    unencrypted_suffix: _plain\n",
                          "    mac_only_encrypted: true\n"])
_rule = st.tuples(_glob, st.sampled_from(["[one]", "[two]", "[one, two]"]), _crypt)
_path = st.tuples(st.lists(st.sampled_from(["a", "b", "x.json", "c"]), max_size=3),
                  st.sampled_from(["f.yaml", "g.yml", "h.json", "i.env", "j.ini", "k",
                                   "a", "b.YAML", "x.json"])).map(lambda t: "/".join([*t[0], t[1]]))


def registry_text(rules: list[tuple[str, str, str]], default: str) -> str:
    body = "".join(f'  - path: "{g}"\n    clusters: {c}\n{x}' for g, c, x in rules)
    return f"""\
version: 1
defaults:
{default}clusters: {{one: {{}}, two: {{}}}}
keys:
  k0: {{type: age, recipient: {KEYS[0]}, clusters: ["*"]}}
  k1: {{type: age, recipient: {KEYS[1]}, clusters: [one]}}
  k2: {{type: age, recipient: {KEYS[2]}, clusters: [two]}}
rules:
{body}"""


@pytest.mark.slow  # 200 hypothesis cases, each rendering and resolving: ~25 s
@settings(max_examples=200, deadline=None)
@given(st.lists(_rule, min_size=1, max_size=4),
       st.sampled_from(["  encrypted_regex: ^(data|stringData)$\n", "  mac_only_encrypted: false\n",
                        "  encrypted_suffix: _enc\n"]),
       st.lists(_path, min_size=1, max_size=8))
def test_rendered_config_agrees_with_resolve(rules: list[tuple[str, str, str]], default: str,
                                             paths: list[str]) -> None:
    try:
        registry = parse_registry(registry_text(rules, default), BASE / "keys" / "registry.yaml")
    except ConfigError as exc:  # e.g. a later rule shadowed by an earlier one
        assume(not exc.problems or all("can never match" in p for p in exc.problems))
        assert exc.problems
        return
    config = BASE / ".sops.yaml"
    config.write_text(render(registry, today=TODAY))
    for path in paths:
        expected = resolve_or_none(registry, path, today=TODAY)
        if expected is None:
            with pytest.raises(ConfigError, match="no creation rule"):
                rule_for(config, BASE / path)
            continue
        got = rule_for(config, BASE / path)
        assert got.recipients == expected.recipients, path
        if expected.format != "binary":  # sops ignores crypt rules for binary files
            assert got.crypt_rule == expected.crypt_rule, path
            assert got.mac_only_encrypted == expected.mac_only_encrypted, path
