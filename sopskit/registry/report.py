"""Text and JSON views of keys and resolutions, and the `.sops.yaml` drift check.

Pure functions returning strings and plain data; the CLI only prints them.
"""

from __future__ import annotations

import difflib
from datetime import date
from typing import Any

from sopskit.registry.coverage import RuleUse
from sopskit.registry.model import Key, Registry
from sopskit.registry.resolve import NoMatchingRule, Resolution, recipients_of_rule, resolve


def key_dict(key: Key, today: date) -> dict[str, Any]:
    return {
        "name": key.name, "type": key.type, "recipient": key.recipient.id,
        "status": key.status, "effective_status": key.effective_status(today),
        "clusters": list(key.clusters), "owner": key.owner, "description": key.description,
        "created": key.created.isoformat() if key.created else None,
        "expires": key.expires.isoformat() if key.expires else None,
        "public_key": str(key.public_key) if key.public_key else None,
    }


def keys_table(registry: Registry, today: date) -> str:
    rows = [("NAME", "TYPE", "STATUS", "CLUSTERS", "EXPIRES", "OWNER", "RECIPIENT")]
    for key in registry.keys.values():
        rows.append((key.name, key.type, key.effective_status(today), ",".join(key.clusters),
                     str(key.expires or "-"), key.owner or "-", key.recipient.id))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1]
                     for r in rows)


def key_text(key: Key, today: date) -> str:
    data = key_dict(key, today)
    return "\n".join(f"{k}: {', '.join(v) if isinstance(v, list) else v}"
                     for k, v in data.items() if v is not None)


def resolution_dict(res: Resolution) -> dict[str, Any]:
    crypt = res.crypt_rule
    return {
        "path": res.path, "format": res.format,
        "rule": {"index": res.rule_index, "path": res.rule.path},
        "clusters": list(res.clusters),
        "recipients": [{"name": k.name, "type": k.type, "recipient": k.recipient.id}
                       for k in res.keys],
        "crypt_rule": {"kind": crypt.kind, "value": crypt.value} if crypt else None,
        "mac_only_encrypted": res.mac_only_encrypted,
        "key_groups": [sorted(str(r) for r in g) for g in res.key_groups],
        "shamir_threshold": res.shamir_threshold,
        "excluded": [{"name": e.key.name, "reason": e.reason, "detail": e.detail}
                     for e in res.excluded],
        "tried": [{"index": r.index, "path": r.path} for r in res.tried],
        "warnings": list(res.warnings),
    }


def resolution_text(res: Resolution, *, explain: bool) -> str:
    crypt = (f"{res.crypt_rule.kind} {res.crypt_rule.value}" if res.crypt_rule
             else "every value encrypted")
    lines = [f"{res.path}: rules[{res.rule_index}] {res.rule.path} -> "
             f"{', '.join(res.clusters)} ({res.format}: {crypt})"]
    if explain:
        lines += [f"  tried rules[{r.index}] {r.path}: no match" for r in res.tried]
    lines += [f"  {k.name}  {k.type}  {k.recipient.id}" for k in res.keys]
    if res.shamir_threshold:
        lines.append(f"  key groups: {len(res.key_groups)}, threshold {res.shamir_threshold}")
    if explain:
        lines += [f"  left out {e.key.name}: {e.reason} ({e.detail})" for e in res.excluded]
    return "\n".join(lines)


def drift(expected: str, actual: str | None, name: str) -> str:
    """A unified diff from the file on disk to what the registry generates ('' if equal)."""
    if actual == expected:
        return ""
    before = (actual or "").splitlines(keepends=True)
    after = expected.splitlines(keepends=True)
    return "".join(difflib.unified_diff(before, after, f"{name} (on disk)",
                                        f"{name} (from the registry)"))


def rule_dict(registry: Registry, use: RuleUse, today: date) -> dict[str, Any]:
    """One rule as `rules list --format json` shows it (files: the repository's secret files
    it governs, first match wins)."""
    rule = use.rule
    crypt = registry.crypt_rule_for(rule, "yaml")
    return {
        "index": rule.index, "path": rule.path, "clusters": list(rule.clusters),
        "recipients": [k.name for k in recipients_of_rule(registry, rule, today=today)],
        "crypt_rule": {"kind": crypt.kind, "value": crypt.value} if crypt else None,
        "crypt_rule_explicit": rule.crypt_explicit,
        "mac_only_encrypted": registry.mac_only_encrypted(rule),
        "key_groups": [{"clusters": list(g.clusters), "keys": list(g.keys)}
                       for g in rule.key_groups],
        "shamir_threshold": rule.shamir_threshold, "description": rule.description,
        "line": rule.line, "files": list(use.governs),
        "preempted": [{"path": p, "by": i} for p, i in use.preempted],
        "warning": use.warning(),
    }


def rules_table(registry: Registry, uses: tuple[RuleUse, ...], today: date) -> str:
    """`rules list` as text: one row per rule, in matching order."""
    rows = [("#", "PATH", "CLUSTERS", "CRYPT (YAML/JSON)", "FILES", "RECIPIENTS")]
    for use in uses:
        rule = use.rule
        crypt = registry.crypt_rule_for(rule, "yaml")
        keys = recipients_of_rule(registry, rule, today=today)
        rows.append((str(rule.index), rule.path, ",".join(rule.clusters),
                     f"{crypt.kind} {crypt.value}" if crypt else "every value",
                     str(len(use.governs)), ", ".join(k.name for k in keys) or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1]
                     for r in rows)


def resolve_all(registry: Registry,
                files: tuple[str, ...]) -> list[tuple[str, Resolution | None]]:
    """Each file with what the registry says about it (None: no rule matches)."""
    out: list[tuple[str, Resolution | None]] = []
    for rel in files:
        try:
            out.append((rel, resolve(registry, rel)))
        except NoMatchingRule:
            out.append((rel, None))
    return out


def resolutions_dicts(resolved: list[tuple[str, Resolution | None]]) -> list[dict[str, Any]]:
    return [resolution_dict(res) if res else
            {"path": rel, "rule": None, "error": f"no rule of the registry matches {rel}"}
            for rel, res in resolved]


def resolutions_text(resolved: list[tuple[str, Resolution | None]], explain: bool) -> str:
    return "\n".join(resolution_text(res, explain=explain) if res else
                     f"{rel}: no rule matches: no recipients" for rel, res in resolved)
