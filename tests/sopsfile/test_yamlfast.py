"""The fast reader of sops-written YAML gives exactly the composer's tree, or declines."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from sopskit import yamlio
from sopskit.errors import InputError
from sopskit.sopsfile import yamlfast, yamlstore
from sopskit.sopsfile.tree import Branch, Comment, Scalar, Seq
from tests.helpers import REAL_WORLD, UPSTREAM
from tests.sopsfile.test_features import TYPED
from tests.sopsfile.test_generated import EXOTIC_YAML, RICH_YAML


def _shape(node: Any) -> Any:
    if isinstance(node, Branch):
        return ["map", *[("#", i.text) if isinstance(i, Comment) else
                         (i.key, i.line, _shape(i.value)) for i in node]]
    if isinstance(node, Seq):
        return ["seq", *[_shape(v) for v in node]]
    assert isinstance(node, Scalar)
    return (type(node.value).__name__, node.value, node.line)


def _composer(text: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as m:
        m.setattr(yamlfast, "load", lambda _text: None)
        return [_shape(b) for b in yamlstore.load(text, path="t")]


def _samples() -> list[str]:
    files = [p for p in [*UPSTREAM.glob("*.yaml"), *REAL_WORLD.rglob("*.y*ml")] if p.is_file()]
    texts = [p.read_text() for p in files]
    made = Path("/nonexistent")
    texts += [RICH_YAML, TYPED, EXOTIC_YAML, "a: 1\n", "a:\n- x\n- y\nb: |+\n    k\n\n\nc: d\n",
              "l:\n    -\n        - 1\n    - - 2\n      - 3\n    - k: v\n      m:\n          n: 1\n",
              "s: 'it''s'\nd: \"\\u00e9\\n\"\ne:\nf: -5\ng: '-'\nh: a:b\n",
              "blk: |-\n    one\n\n    two\n\n\nnext: x\n", "key: |\n    x\n  y: 1\n"]
    return [t for t in texts if t and made]


def test_fast_reader_equals_composer(monkeypatch: pytest.MonkeyPatch) -> None:
    accepted = 0
    for text in _samples():
        fast = yamlfast.load(text)
        if fast is None:
            continue
        accepted += 1
        assert [_shape(b) for b in fast] == _composer(text, monkeypatch), text[:200]
    assert accepted >= 200  # most plain YAML (and every comment-free sops file) is fast


def test_fast_reader_equals_composer_on_mutations(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(7)
    texts = [t for t in _samples() if yamlfast.load(t) is not None]
    for _ in range(3000):
        data = list(rng.choice(texts))
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.choice(" \n:-'\"|>x0[{&*!.e")
        text = "".join(data)
        fast = yamlfast.load(text)
        if fast is None:
            continue
        try:
            expected = _composer(text, monkeypatch)
        except InputError:
            pytest.fail(f"fast reader accepted what the composer rejects: {text!r}")
        assert [_shape(b) for b in fast] == expected, text
    assert yamlio  # the composer path is the one from sopskit.yamlio
