"""The outcome of an audit run, as every report format reads it."""

from __future__ import annotations

from dataclasses import dataclass, field

from sopskit.audit.finding import SEVERITY_NAMES, Finding, Severity


@dataclass
class AuditResult:
    findings: list[Finding]  # sorted; accepted ones (baseline) excluded
    files_scanned: int
    files_skipped: int
    skipped_by_reason: dict[str, int] = field(default_factory=dict)
    accepted: int = 0  # findings suppressed by the baseline
    notes: list[str] = field(default_factory=list)  # e.g. "MAC not checked: no identity"

    @property
    def summary(self) -> dict[str, object]:
        """The counts of the JSON report's `summary` (files scanned and skipped, findings,
        findings by severity)."""
        return {"files_scanned": self.files_scanned, "files_skipped": self.files_skipped,
                "findings": len(self.findings), "by_severity": self.by_severity()}

    def by_severity(self) -> dict[str, int]:
        counts = dict.fromkeys(reversed(SEVERITY_NAMES), 0)
        for f in self.findings:
            counts[f.severity.label] += 1
        return counts

    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)

    def fails(self, threshold: Severity) -> bool:
        worst = self.worst()
        return worst is not None and worst >= threshold
