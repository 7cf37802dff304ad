"""docs/rules.md documents every rule id, and each plaintext example there is found by the
rule it illustrates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sopskit.audit.rules import RULES
from sopskit.audit.scan import ScanSettings, scan_bytes

DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
_SECTION = re.compile(r"^### ([a-z0-9-]+)\n(.*?)(?=^### |^## |\Z)", re.M | re.S)
_BLOCK = re.compile(r"```[a-z]*\n# file: (\S+)( \(abridged\))?\n(.*?)```", re.S)


def _sections() -> dict[str, str]:
    return {m.group(1): m.group(2) for m in _SECTION.finditer(DOC.read_text())}


def test_every_rule_is_documented() -> None:
    sections = _sections()
    assert sorted(sections) == sorted(RULES)
    for rule_id in RULES:
        assert f"[{rule_id}](#{rule_id})" in DOC.read_text()


# sops-plaintext-value's example is an abridged sops file; test_sops_checks covers the rule
# with a file written by the real sops; plaintext-still-in-use needs a history and a key
# (tests/history/test_history_audit.py).
PLAINTEXT = [r for r in RULES.values() if r.category == "plaintext"
             and r.id not in ("sops-plaintext-value", "plaintext-still-in-use")]


@pytest.mark.parametrize("rule_id", [r.id for r in PLAINTEXT])
def test_plaintext_example_is_found(rule_id: str) -> None:
    block = _BLOCK.search(_sections()[rule_id])
    assert block, f"no example for {rule_id}"
    found = scan_bytes(block.group(1), block.group(3).encode(), ScanSettings()).findings
    assert rule_id in {f.rule for f in found}
