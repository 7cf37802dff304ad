"""Glob syntax, the regex each glob compiles to, and property tests: the `re` matcher, an
independent NFA, and a naive reference matcher agree; the YAML/JSON restriction is exact."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sopskit.registry import globauto
from sopskit.registry.glob import Glob, GlobError
from sopskit.registry.sops_config import only_structured, structured_regex
from tests.registry.globref import ref_match

CASES = [
    ("clusters/production/**", "clusters/production/app/secret.yaml", True),
    ("clusters/production/**", "clusters/production/a.env", True),
    ("clusters/production/**", "clusters/production", False),
    ("clusters/production/**", "clusters/productionx/a.yaml", False),
    ("clusters/*/secret.yaml", "clusters/sandbox/secret.yaml", True),
    ("clusters/*/secret.yaml", "clusters/a/b/secret.yaml", False),
    ("**/*.env", "app.env", True),
    ("**/*.env", "a/b/c/app.env", True),
    ("**/*.env", "a/b/c/app.env.bak", False),
    ("a/**/b.yaml", "a/b.yaml", True),
    ("a/**/b.yaml", "a/x/y/b.yaml", True),
    ("{core,services,apps}/**", "services/x/y.yaml", True),
    ("{core,services,apps}/**", "other/x.yaml", False),
    ("{a/**,b}/c", "a/x/c", True),
    ("{a/**,b}/c", "b/c", True),
    ("{a/**,b}/c", "b/x/c", False),
    ("x{a,{b,c}d}y.txt", "xcdy.txt", True),
    ("x{a,{b,c}d}y.txt", "xcy.txt", False),
    ("file?.yaml", "file1.yaml", True),
    ("file?.yaml", "file/.yaml", False),
    ("[a-c]*.json", "b1.json", True),
    ("[!a-c]*.json", "b1.json", False),
    ("[!a-c]*.json", "d1.json", True),
    (r"lit\*.yaml", "lit*.yaml", True),
    (r"lit\*.yaml", "litx.yaml", False),
    ("a.b(c)+$.yaml", "a.b(c)+$.yaml", True),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), CASES)
def test_glob_cases(pattern: str, path: str, expected: bool) -> None:
    glob = Glob.compile(pattern)
    assert glob.match(path) is expected
    assert globauto.matches(glob.tokens, path) is expected
    assert ref_match(pattern, path) is expected


def test_regex_is_anchored_and_readable() -> None:
    assert Glob.compile("clusters/production/**").regex == "^clusters/production/.*$"
    assert Glob.compile("**/*.env").regex == r"^(?:.*/)?[^/]*\.env$"
    assert Glob.compile("{core,services}/**").regex == "^(?:core|services)/.*$"
    assert Glob.compile("a/**/b").regex == "^a/(?:.*/)?b$"


def test_regex_avoids_escapes_go_re2_rejects() -> None:
    # RE2 rejects a backslash before a non-punctuation character such as a space.
    regex = Glob.compile("my dir/a b#c~d.yaml").regex
    assert regex == r"^my dir/a b#c~d\.yaml$"


@pytest.mark.parametrize(("pattern", "message"), [
    ("", "empty pattern"),
    ("/abs/**", "no leading /"),
    ("dir/", "not end with /"),
    ("a//b", "path segment"),
    ("../x", "path segment"),
    ("a/{b,c", "unterminated '{'"),
    ("a/[bc", "unterminated '['"),
    ("a/{b}", "at least two alternatives"),
    ("a}b", "unbalanced"),
    ("a[z-a]", "reversed range"),
    ("a[/]b", "cannot match '/'"),
])
def test_bad_globs_say_why(pattern: str, message: str) -> None:
    with pytest.raises(GlobError, match=re.escape(message)):
        Glob.compile(pattern)


# --- property tests ------------------------------------------------------------------------

_SEGMENT_PARTS = st.sampled_from(["a", "b", ".", "ab", "*", "?", "[ab]", "[!a]", "{a,b}",
                                  "{a,.b}", "x"])
_segment = st.lists(_SEGMENT_PARTS, min_size=1, max_size=3).map("".join).filter(
    lambda s: s not in (".", ".."))
_pattern_segment = st.one_of(_segment, st.just("**"), st.just("{a/**,b}"), st.just("{a,b/c}"))
patterns = st.lists(_pattern_segment, min_size=1, max_size=4).map("/".join)
_path_segment = st.text(alphabet="ab.x", min_size=1, max_size=4).filter(
    lambda s: s not in (".", ".."))
paths = st.lists(_path_segment, min_size=1, max_size=5).map("/".join)


@settings(max_examples=400, deadline=None)
@given(patterns, paths)
def test_regex_nfa_and_reference_agree(pattern: str, path: str) -> None:
    glob = Glob.compile(pattern)
    expected = ref_match(pattern, path)
    assert glob.match(path) is expected
    assert (re.search(glob.regex, path) is not None) is expected  # as sops runs it (search)
    assert globauto.matches(glob.tokens, path) is expected


_suffixes = st.sampled_from([".yaml", ".yml", ".json", ".env", ".ini", "", ".YAML", ".json.bak"])


@settings(max_examples=400, deadline=None)
@given(patterns, paths, _suffixes)
def test_structured_regex_is_the_glob_restricted_to_yaml_and_json(pattern: str, path: str,
                                                                  suffix: str) -> None:
    glob = Glob.compile(pattern)
    full = path + suffix
    regex = structured_regex(glob)
    structured = full.endswith((".yaml", ".yml", ".json"))
    expected = glob.match(full) and structured
    assert (regex is not None and re.fullmatch(regex, full) is not None) is expected
    if only_structured(glob) and glob.match(full):
        assert structured


@settings(max_examples=150, deadline=None)
@given(patterns, patterns, paths)
def test_coverage_check_is_exact_on_samples(first: str, second: str, path: str) -> None:
    a, b = Glob.compile(first), Glob.compile(second)
    if globauto.covered(b.tokens, [a.tokens]) and b.match(path):
        assert a.match(path)
    witness = globauto.witness(b.tokens, [a.tokens], inside=False)
    if witness is not None:
        assert b.match(witness) and not a.match(witness)


@pytest.mark.parametrize("earlier", ["**", "{a,b}/**"])
def test_an_earlier_catch_all_decides_coverage_of_a_complex_glob(earlier: str) -> None:
    # found by hypothesis: the product search used to explore the whole automaton of the
    # later glob and give up (Undecided) although `**` plainly takes every path
    later = Glob.compile("{a/**,b}/a{a,b}{a,b}/a{a,b}{a,b}/**")
    assert globauto.covered(later.tokens, [Glob.compile(earlier).tokens]) is True
    assert globauto.witness(later.tokens, [Glob.compile(earlier).tokens], inside=False) is None
