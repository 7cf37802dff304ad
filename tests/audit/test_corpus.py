"""Recall and precision on the generated GitOps corpus (corpus.py): every planted secret is
found by its rule (recall 1.0) and nothing else is reported (precision 1.0)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.audit.corpus import build
from tests.helpers import AgeKey, run_cli


def test_recall_and_precision(tmp_path: Path, real_keys: dict[str, str], age: AgeKey) -> None:
    repo, truth = build(tmp_path / "corpus", real_keys, age)
    res = run_cli("--repo", repo, "audit", "--format", "json", "--fail-on", "low")
    assert res.code == 1, res.stderr
    found = {(f["path"], f["rule"]) for f in json.loads(res.stdout)["findings"]}
    expected = {(path, rule) for path, rules in truth.items() for rule in rules}
    true_positives = found & expected
    recall = len(true_positives) / len(expected)
    precision = len(true_positives) / len(found)
    assert (recall, precision) == (1.0, 1.0), {"missed": sorted(expected - found),
                                               "false": sorted(found - expected)}
    decoys = sum(1 for rules in truth.values() if not rules)
    assert len(expected) >= 50 and decoys >= 25
