"""The faster forms of the prefilters that run on every file (RE2 passes, searches started
only where a pattern can start) decide exactly as the forms they replace: random texts over
the characters that matter, and every Unicode code point for case folding."""

from __future__ import annotations

import base64
import random
import re

import pytest

from sopskit.audit.detectors import generic, kubernetes, source
from sopskit.audit.detectors.source import Source


def _kinds_with_re(text: str) -> list[tuple[int, str | None]]:
    starts = [0] + [m.end() for m in source._DOC_SEP.finditer(text)]
    out: list[tuple[int, str | None]] = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        m = source._KIND.search(text, start, end)
        out.append((start, m.group(1) if m else None))
    return out


def test_document_kinds_as_re_reads_them() -> None:
    parts = ["---", "--- # c", "---x", "kind: Secret", "kind: 'Foo'", "kind:\tBar", "  kind: X",
             "kind:", " ---", "x: 1", "", "\r", "---\r", "kind: A\r", "#---", "--- #c\r",
             'kind: "Q1" # z', "kind: é", "---\t", "kind::", "kind: 'a-b'"]
    rng = random.Random(7)
    for _ in range(20000):
        text = "\n".join(rng.choice(parts) for _ in range(rng.randint(0, 12)))
        text += "\n" if rng.random() < 0.3 else ""
        assert source.document_kinds(Source("a.yaml", text)) == _kinds_with_re(text), repr(text)


def test_secret_candidate_as_re_reads_it() -> None:
    parts = ["kind", "Kind", "kind:", " :", '"', "'", "Secret", "SecretX", "List", "FooList",
             "*", "<<", ":", "secretGenerator", "!!str", "&a", "\v", "\t", "\n", " ", "x", "_",
             "Secrets", "\r", "é", "\f"]
    rng = random.Random(11)
    for _ in range(100000):
        text = "".join(rng.choice(parts) for _ in range(rng.randint(1, 10)))
        expected = (("Secret" in text or "secretGenerator" in text)
                    and kubernetes._CANDIDATE.search(text) is not None)
        assert kubernetes.is_candidate(text) == expected, repr(text)


_KEYWORD_RE = re.compile(generic._KEYWORDS, re.I)  # what the RE2 form replaced
_WORDS = ("pass", "pwd", "secret", "token", "apikey", "privatekey", "accesskey", "credential",
          "authkey", "encryptionkey", "signingkey", "masterkey")
# every character whose case mappings reach an ASCII letter (`ı`, `ſ`, the Kelvin sign, ...;
# none past U+1FFFF has a case mapping)
_FOLDING = [chr(cp) for cp in range(0x80, 0x20000) if not 0xD800 <= cp < 0xE000
            and any(c.isascii() and c.isalpha() for c in
                    chr(cp).lower() + chr(cp).upper() + chr(cp).casefold())]


def test_keyword_lines_of_non_ascii_text_as_re_finds_them() -> None:
    """Each keyword with one letter swapped for any character that may fold to a letter:
    the RE2 search of non-ASCII text finds a line exactly when `re` (?i) does."""
    assert {"ı", "İ", "ſ", "\u212a"} <= set(_FOLDING)
    for word in _WORDS:
        for i in range(len(word)):
            for char in [*_FOLDING, word[i].upper()]:
                text = f"x: 1\nkey_{word[:i]}{char}{word[i + 1:]}: v é\n"
                found = list(generic._keyword_lines(Source("a.yaml", text)))
                expected = _KEYWORD_RE.search(text) is not None
                assert bool(found) == expected, (word, i, hex(ord(char)))
                assert found in ([], [(5, len(text) - 1)])


def test_keyword_lines_offsets_in_non_ascii_text() -> None:
    parts = ["pass", "PASS", "paſs", "pİss", "pıss", "token", "é", "’", "\n", "\n", "x",
             "secret", "\udc00", "🔑", "ß", "Σ", " ", "prıvate_key", "credentıal"]
    rng = random.Random(5)
    for _ in range(20000):
        text = "".join(rng.choice(parts) for _ in range(rng.randint(1, 14))) + "é"
        src = Source("a.yaml", text)
        expected = []
        found = _KEYWORD_RE.search(text)
        while found is not None:
            start, end = src.line_bounds(found.start())
            expected.append((start, end))
            found = _KEYWORD_RE.search(text, end)
        assert list(generic._keyword_lines(src)) == expected, repr(text)


_VALUE = "Zq8vN3xW7rT2pL9k"


@pytest.mark.parametrize("data_key", [
    "data", "stringData", '"data"', "'stringData'", "!!str data", '"d\\u0061ta"',
    '? "da\\\n  ta"\n',  # an explicit double-quoted key continued on the next line: `data`
    "? data\n",  # an explicit key
])
def test_every_spelling_of_a_data_key_is_still_read(data_key: str) -> None:
    """The prefilter that spares composing a file with no `data`/`stringData` key lets
    every way of writing one through (escapes, a line continuation, quotes, tags)."""
    field = "stringData" if "string" in data_key else "data"
    value = _VALUE if field == "stringData" else base64.b64encode(_VALUE.encode()).decode()
    text = f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n{data_key}:\n  pw: {value}\n"
    hits = list(kubernetes.detect(Source("s.yaml", text)))
    assert [h.secret for h in hits] == [_VALUE], text


def test_alias_and_flow_keys_are_still_read() -> None:
    for text in (f"kind: Secret\nx: &k stringData\n*k :\n  pw: {_VALUE}\n",
                 f"{{kind: Secret, stringData: {{pw: {_VALUE}}}}}\n"):
        assert [h.secret for h in kubernetes.detect(Source("s.yaml", text))] == [_VALUE], text


def test_a_secret_reference_alone_is_not_composed() -> None:
    text = "kind: HelmRelease\nspec:\n  valuesFrom:\n    - kind: Secret\n      name: x\n"
    assert kubernetes.is_candidate(text) and not kubernetes._may_hold_values(text)


def test_sops_yaml_metadata_found_as_the_regex_finds_it() -> None:
    """`looks_like_sops` tries its YAML pattern only at lines starting with `sops:`: the
    same answer as a search of the whole text, on random texts."""
    from sopskit.sopsfile import document

    parts = [b"sops:", b"sops: {", b"sops:\n", b"  mac: x", b"\n", b"\r\n", b"# c", b" sops:",
             b"xsops:", b"lastmodified: 1", b"  age: []", b"{", b"\t", b"sops:#c\n  k: v"]
    rng = random.Random(9)
    for _ in range(50000):
        text = b"".join(rng.choice(parts) for _ in range(rng.randint(1, 10)))
        assert document._yaml_meta(text) == (document._YAML_META.search(text) is not None)


def test_sops_metadata_is_not_a_hiding_place() -> None:
    """The `sops:` block of a sops Secret is left out of composing; a Secret value placed
    in such a block, or aliased out of it, is still read (line numbers kept)."""
    value = _VALUE
    meta = "sops:\n  mac: ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:str]\n  version: 3.9.0\n"
    plain = f"kind: Secret\nstringData:\n  pw: {value}\n"
    assert kubernetes._without_sops_metadata(plain + meta) == plain + "\n" * 3
    cases = {
        plain + meta: 3,  # the metadata after the Secret: blanked, the value found
        meta + plain: 6,
        f"sops:\n  x: &pw {value}\n  mac: x\nkind: Secret\nstringData:\n  pw: *pw\n": 2,
        f"a: 1\nsops:\n  kind: Secret\n  stringData:\n    pw: {value}\n": 5,
    }
    for text, line in cases.items():
        hits = list(kubernetes.detect(Source("s.sops.yaml", text)))
        assert [(h.secret, h.line) for h in hits] == [(value, line)], text

