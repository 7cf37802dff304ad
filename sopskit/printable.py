"""Names from a repository made safe for one line of a terminal or CI log.

A committer chooses file and key names: a newline or an escape sequence in one must not
forge or hide report lines. Every text renderer (audit, diff, access, exposure, runbook)
passes names through `printable`.
"""

from __future__ import annotations

import json


def printable(text: str) -> str:
    """`text` with every non-printable character written as its JSON escape (`\\n`)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else json.dumps(c)[1:-1] for c in text)
