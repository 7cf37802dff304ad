"""The human report: findings grouped by file, coloured on a terminal, one summary line."""

from __future__ import annotations

from itertools import groupby

from sopskit.audit.finding import Finding, Severity
from sopskit.audit.result import AuditResult
from sopskit.printable import printable

_COLOURS = {Severity.CRITICAL: "\x1b[1;35m", Severity.HIGH: "\x1b[1;31m",
            Severity.MEDIUM: "\x1b[33m", Severity.LOW: "\x1b[36m"}
_BOLD, _RESET = "\x1b[1m", "\x1b[0m"


def render(result: AuditResult, *, colour: bool = False) -> str:
    lines: list[str] = []
    for path, group in groupby(result.findings, key=lambda f: f.path):
        lines.append(_paint(printable(path), _BOLD, colour))
        lines.extend(_finding(f, colour) for f in group)
        lines.append("")
    lines.extend(f"note: {printable(n)}" for n in result.notes)
    lines.append(summary(result))
    return "\n".join(lines) + "\n"


def _finding(f: Finding, colour: bool) -> str:
    where = f"{f.line:>5}" if f.line else "    -"
    sev = _paint(f"{f.severity.label:<8}", _COLOURS[f.severity], colour)
    when = ""
    if f.commit is not None:
        when = f" [commit {f.commit[:12]}, {'still in' if f.in_tree else 'gone from'} the tree]"
    return f"  {where}  {sev} {f.rule}: {printable(f.message)}{when}"


def _paint(text: str, code: str, colour: bool) -> str:
    return f"{code}{text}{_RESET}" if colour else text


def summary(result: AuditResult) -> str:
    counts = ", ".join(f"{n} {s}" for s, n in result.by_severity().items() if n)
    found = f"{len(result.findings)} finding{'s' if len(result.findings) != 1 else ''}"
    skipped = ""
    if result.files_skipped:
        reasons = ", ".join(f"{n} {r}" for r, n in sorted(result.skipped_by_reason.items()))
        skipped = f", {result.files_skipped} skipped ({reasons})"
    accepted = f", {result.accepted} accepted by the baseline" if result.accepted else ""
    return (f"{found}{f' ({counts})' if counts else ''} in {result.files_scanned} files "
            f"scanned{skipped}{accepted}")
