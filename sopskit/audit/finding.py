"""What the audit reports: a `Finding` names a rule, a place and a fingerprint, never a value."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Literal

Category = Literal["plaintext", "recipients", "rotation", "integrity", "config", "delivery"]

class Severity(IntEnum):
    """Ordered so that `--fail-on` is a comparison."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.upper()]


SEVERITY_NAMES: tuple[str, ...] = ("low", "medium", "high", "critical")


@dataclass(frozen=True, order=True)
class Finding:
    """One problem. `message` and `fingerprint` never contain (part of) a secret value.

    `path` is repository-relative POSIX; `line` is 1-based or None (whole file / metadata).
    """

    path: str
    line: int | None
    rule: str
    category: Category
    severity: Severity
    message: str
    fingerprint: str
    # `audit --history` only: the commit that first introduced the value, and whether the
    # value is still in today's tree (None for a tree audit)
    commit: str | None = None
    in_tree: bool | None = None

    def sort_key(self) -> tuple[str, int, str]:
        return (self.path, self.line or 0, self.rule)

    def at(self, path: str) -> Finding:
        return replace(self, path=path)

    def as_dict(self) -> dict[str, object]:
        """The JSON contract of issue 5 (`findings[]` entries); a history finding adds
        `commit` and `still_in_tree` (issue 12)."""
        out: dict[str, object] = {
            "rule": self.rule, "category": self.category, "severity": self.severity.label,
            "path": self.path, "line": self.line, "message": self.message,
            "fingerprint": self.fingerprint}
        if self.commit is not None:
            out |= {"commit": self.commit, "still_in_tree": self.in_tree}
        return out
