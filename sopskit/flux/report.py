"""`flux check` reports: JSON (the contract of issue 11), text grouped by cluster then
Kustomization, and SARIF through the audit's SARIF writer (same rules table)."""

from __future__ import annotations

import json
from itertools import groupby

from sopskit.audit.report import sarif
from sopskit.audit.result import AuditResult
from sopskit.flux.check import ClusterReport, FluxReport
from sopskit.flux.model import Node
from sopskit.printable import printable

VERSION = 1


def _source(report: ClusterReport) -> dict[str, object] | None:
    src = report.cluster.source
    if src is None:
        return None
    return {"kind": "GitRepository", "name": src.name, "branch": src.branch, "tag": src.tag,
            "semver": src.semver, "commit": src.commit, "resolved": report.cluster.resolved}


def _node(node: Node) -> dict[str, object]:
    dec = node.decryption
    return {"namespace": node.namespace, "name": node.name, "file": node.file,
            "path": node.path if node.path is not None else node.raw_path,
            "decryption": {"provider": dec.provider, "secret": dec.secret} if dec else None,
            "sops_files": list(node.sops_files)}


def as_dict(report: FluxReport) -> dict[str, object]:
    return {"version": VERSION,
            "clusters": [{"name": c.cluster.name, "entry": c.cluster.entry,
                          "source": _source(c), "decryption_keys": list(c.decryption_keys),
                          "kustomizations": [_node(n) for n in c.cluster.nodes]}
                         for c in report.clusters],
            "findings": [f.as_dict() for f in report.findings]}


def render_json(report: FluxReport) -> str:
    return json.dumps(as_dict(report), indent=2) + "\n"


def render_sarif(report: FluxReport) -> str:
    findings = sorted(f.finding() for f in report.findings)
    return sarif.render(AuditResult(findings, 0, 0, notes=list(report.notes)))


def _tracking(c: ClusterReport) -> str:
    t, src = c.tracking, c.cluster.source
    if t is None:
        if src is not None and src.file is not None:
            return f"source: GitRepository {src.name} ({src.file}), its ref unresolved (see notes)"
        return "source: not committed in this repository"
    missing = " (no tag matches yet)" if t.kind == "semver" else " (not in this clone)"
    now = f" -> {c.cluster.resolved}" if c.cluster.resolved else missing
    return f"tracks {t.kind} {t.ref}{now}; checked: {c.tree}"


def _node_line(node: Node, depth: int) -> str:
    dec = node.decryption
    how = ("decryption: " + (f"sops, Secret {dec.secret}" if dec.secret else dec.provider)
           if dec else "no decryption")
    if not node.local:
        how = f"source {node.source}: not followed"
    elif node.unresolved:
        how = f"path has undefined variables {', '.join(node.unresolved)}: not built"
    sops = f", {len(node.sops_files)} sops file(s)" if node.sops_files else ""
    return f"{'  ' * depth}{node.label} ({node.file}) -> {node.raw_path or '.'}; {how}{sops}"


def _tree(node: Node, depth: int, lines: list[str], seen: set[int]) -> None:
    if id(node) in seen:
        return
    seen.add(id(node))
    lines.append(_node_line(node, depth))
    for child in node.children:
        _tree(child, depth + 1, lines, seen)


def render_text(report: FluxReport) -> str:
    """One line per cluster fact, Kustomization and finding; every line made printable
    (names, paths and messages come from the repository: a line break forged lines)."""
    lines: list[str] = []
    by_cluster = {k: list(g) for k, g in groupby(report.findings, key=lambda f: f.cluster)}
    for c in report.clusters:
        keys = ", ".join(c.decryption_keys) or "unknown"
        lines += [f"cluster {c.cluster.name} (entry {c.cluster.entry or '.'})",
                  f"  {_tracking(c)}", f"  decryption keys: {keys}"]
        seen: set[int] = set()
        for root in c.cluster.roots:
            _tree(root, 2, lines, seen)
        found = by_cluster.get(c.cluster.name, [])
        for kust, group in groupby(sorted(found, key=lambda f: f.kustomization or ""),
                                   key=lambda f: f.kustomization):
            lines.append(f"  findings for {kust or 'the cluster'}:")
            for f in group:
                finding = f.finding()
                where = f"{f.path}:{f.line}" if f.line else f.path
                lines.append(f"    {finding.severity.label:<8} {f.rule}: {where}: {f.message}")
        lines.append("")
    if not report.clusters:
        lines.append("no Flux cluster found (no Flux Kustomization in the repository)")
    lines += [f"note: {n}" for n in report.notes]
    n = len(report.findings)
    lines.append(f"{n} delivery finding{'s' if n != 1 else ''} in {len(report.clusters)} "
                 f"cluster(s), {sum(len(c.cluster.nodes) for c in report.clusters)} "
                 "Kustomization(s)")
    return "\n".join(printable(line) for line in lines) + "\n"
