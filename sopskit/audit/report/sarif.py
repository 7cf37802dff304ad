"""SARIF 2.1.0 for code-scanning upload: every rule sopskit knows, results with locations
and `partialFingerprints` (the finding's fingerprint, so alerts survive moved lines)."""

from __future__ import annotations

import json

from sopskit import __version__
from sopskit.audit.finding import Finding, Severity
from sopskit.audit.result import AuditResult
from sopskit.audit.rules import RULES, Rule

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://github.com/sopskit/sopskit/blob/main/docs/rules.md"
FINGERPRINT_KEY = "sopskitFingerprint/v1"
_LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
          Severity.LOW: "note"}
# GitHub code scanning reads `security-severity` (0-10) to rank security alerts.
_SCORE = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5",
          Severity.LOW: "3.0"}


def _rule(r: Rule) -> dict[str, object]:
    return {
        "id": r.id,
        "name": "".join(part.capitalize() for part in r.id.split("-")),
        "shortDescription": {"text": r.title},
        "helpUri": f"{INFO_URI}#{r.id}",
        "defaultConfiguration": {"level": _LEVEL[r.severity]},
        "properties": {"category": r.category, "security-severity": _SCORE[r.severity],
                       "tags": ["security", r.category]},
    }


def _result(f: Finding, index: dict[str, int]) -> dict[str, object]:
    location: dict[str, object] = {"artifactLocation": {"uri": f.path,
                                                        "uriBaseId": "%SRCROOT%"}}
    if f.line:
        location["region"] = {"startLine": f.line}
    return {
        "ruleId": f.rule,
        "ruleIndex": index[f.rule],
        "level": _LEVEL[f.severity],
        "message": {"text": f.message},
        "locations": [{"physicalLocation": location}],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": {"severity": f.severity.label, "category": f.category,
                       "security-severity": _SCORE[f.severity],
                       **({"commit": f.commit, "stillInTree": f.in_tree}
                          if f.commit is not None else {})},
    }


def as_dict(result: AuditResult) -> dict[str, object]:
    rules = list(RULES.values())
    index = {r.id: i for i, r in enumerate(rules)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "sopskit", "version": __version__,
                                "informationUri": INFO_URI,
                                "rules": [_rule(r) for r in rules]}},
            "originalUriBaseIds": {"%SRCROOT%": {"description": {
                "text": "The root of the audited repository."}}},
            "results": [_result(f, index) for f in result.findings],
            "columnKind": "unicodeCodePoints",
        }],
    }


def render(result: AuditResult) -> str:
    return json.dumps(as_dict(result), indent=2) + "\n"
