"""Inline acceptance: `sopskit: allow RULE-ID[, RULE-ID...]` in a comment on the finding's
line or the line before it (any comment syntax: the marker is searched as text)."""

from __future__ import annotations

import re

_MARK = re.compile(r"sopskit:\s*allow\s+([a-z0-9][a-z0-9\-]*(?:\s*,\s*[a-z0-9][a-z0-9\-]*)*)")


def allowed_rules(line_text: str) -> frozenset[str]:
    m = _MARK.search(line_text)
    if not m:
        return frozenset()
    return frozenset(r.strip() for r in m.group(1).split(","))


def is_allowed(lines: list[str], line: int | None, rule_id: str) -> bool:
    """Whether line `line` (1-based) or the one before carries an allow for `rule_id`."""
    if line is None:
        return False
    return any(1 <= n <= len(lines) and rule_id in allowed_rules(lines[n - 1])
               for n in (line, line - 1))
