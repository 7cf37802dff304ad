"""The JSON report: the contract CI scripts rely on (issue 5). Keys are exactly these."""

from __future__ import annotations

import json

from sopskit.audit.result import AuditResult

VERSION = 1


def as_dict(result: AuditResult) -> dict[str, object]:
    return {
        "version": VERSION,
        "summary": result.summary,
        "findings": [f.as_dict() for f in result.findings],
    }


def render(result: AuditResult) -> str:
    return json.dumps(as_dict(result), indent=2) + "\n"
