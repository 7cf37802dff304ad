"""sopskit audits its own repository cleanly: the deliberate fixtures (demo credentials,
test inputs, the examples of docs/rules.md) are accepted by .sopskit-baseline.json, each
with a reason; anything new fails here, in CI."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import run_cli

ROOT = Path(__file__).resolve().parents[2]


def test_the_project_audits_itself_cleanly() -> None:
    res = run_cli("--repo", ROOT, "audit", "--format", "json", "--fail-on", "low")
    findings = json.loads(res.stdout)["findings"] if res.stdout else res.stderr
    assert res.code == 0, (
        "new findings in the repository; a deliberate fixture? add `# sopskit: allow RULE-ID` on "
        "its line, or run `sopskit audit baseline update` and give the entry a reason", findings)


def test_every_baseline_entry_has_a_reason() -> None:
    entries = json.loads((ROOT / ".sopskit-baseline.json").read_text())["entries"]
    assert entries
    assert all(e["reason"] for e in entries)
