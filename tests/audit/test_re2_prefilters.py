"""The RE2 forms of the prefilters that run on every file (ASCII text) decide exactly as
the Python `re` forms they replace: random texts over the characters that matter."""

from __future__ import annotations

import random

from sopskit.audit.detectors import kubernetes, source
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
