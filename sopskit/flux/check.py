"""`flux_check(options) -> FluxReport`: discover the clusters, optionally read each at the
revision it reconciles (`tracked`), and run the delivery checks. Library code: no output."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from sopskit.errors import InputError, UsageError
from sopskit.flux import committed_secrets as secrets
from sopskit.flux import decryption_secret as flux_secret
from sopskit.flux import delivery
from sopskit.flux.delivery import FluxFinding
from sopskit.flux.discover import discover
from sopskit.flux.loader import Loader
from sopskit.flux.model import Cluster
from sopskit.flux.tracking import Tracking, resolve
from sopskit.flux.tree import Tree, at_revision, working_tree
from sopskit.registry.model import Key, Registry


@dataclass(frozen=True)
class CheckOptions:
    repo: Path
    clusters: tuple[str, ...] = ()
    registry: Registry | None = None
    tracked: bool = False
    # working-tree files already read by the caller: rel -> loader.holds_discovered(...)
    known: Mapping[str, bool] = field(default_factory=dict, hash=False)


@dataclass
class ClusterReport:
    cluster: Cluster
    tracking: Tracking | None
    decryption_keys: list[str]
    tree: str  # what was read: "working tree" or the revision
    secrets: list[secrets.DecryptionSecret] = field(default_factory=list)


@dataclass
class FluxReport:
    clusters: list[ClusterReport]
    findings: list[FluxFinding]
    notes: list[str] = field(default_factory=list)


def cluster_keys(registry: Registry, cluster: str) -> list[Key]:
    """The keys the cluster decrypts with: those `sopskit flux secret CLUSTER` puts into
    its Secret (one list for both: flux.decryption_secret.cluster_keys) and the cloud KMS /
    Vault keys naming it."""
    return flux_secret.cluster_keys(registry, cluster, services=True)


def _registry_names(found: list[Cluster], registry: Registry | None) -> None:
    """Name clusters as the registry does: a registry cluster name that is a directory of
    the entry, or the only cluster on both sides."""
    if registry is None or not registry.clusters:
        return
    names = list(registry.clusters)
    for c in found:
        if c.name in names:
            continue
        match = [n for n in names if n in c.entry.split("/")]
        if len(match) == 1:
            c.name = match[0]
    if len(found) == 1 and len(names) == 1:
        found[0].name = names[0]


def _discover(loader: Loader, registry: Registry | None) -> list[Cluster]:
    found = discover(loader).clusters
    _registry_names(found, registry)
    return found


def _select(found: list[Cluster], wanted: tuple[str, ...]) -> list[Cluster]:
    if not wanted:
        return found
    known = {c.name for c in found}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise UsageError(f"no Flux cluster {', '.join(unknown)} in this repository "
                         f"(clusters: {', '.join(sorted(known)) or 'none'})")
    return [c for c in found if c.name in wanted]


@dataclass
class _Run:
    options: CheckOptions
    notes: list[str] = field(default_factory=list)
    _trees: dict[str, tuple[Tree, Loader, list[Cluster]]] = field(default_factory=dict)

    def at(self, rev: str) -> tuple[Loader, list[Cluster]]:
        if rev not in self._trees:
            tree = at_revision(self.options.repo, rev)
            loader = Loader(tree)
            self._trees[rev] = (tree, loader, _discover(loader, self.options.registry))
        _, loader, found = self._trees[rev]
        return loader, found


def flux_check(options: CheckOptions) -> FluxReport:
    """Every selected cluster's tree and its delivery findings."""
    run = _Run(options)
    loader = Loader(working_tree(options.repo), known=options.known)
    found = _select(_discover(loader, options.registry), options.clusters)
    reports: list[ClusterReport] = []
    findings: list[FluxFinding] = []
    for cluster in found:
        tracking = None
        if cluster.source is not None and cluster.source.file is not None:
            try:
                tracking = resolve(options.repo, cluster.source)
            except InputError as exc:  # source-controller fails this source the same way
                run.notes.append(f"cluster {cluster.name}: {exc}")
        here, target, label = loader, cluster, "working tree"
        if options.tracked:
            if tracking is None or tracking.rev is None:
                run.notes.append(f"cluster {cluster.name}: the revision it reconciles is not "
                                 "in this clone (" + (f"{tracking.kind} {tracking.ref}"
                                                      if tracking else "no GitRepository")
                                 + "): checked the working tree")
            else:
                here, at = run.at(tracking.rev)
                label = tracking.resolved or tracking.rev
                same = [c for c in at if c.entry == cluster.entry]
                if not same:
                    run.notes.append(f"cluster {cluster.name}: no entry {cluster.entry} at "
                                     f"{label}")
                    continue
                target = same[0]
                target.name = cluster.name
        target.resolved = tracking.resolved if tracking else None
        report, found_here = _check(here, target, tracking, label, options.registry,
                                    run.notes)
        reports.append(report)
        findings += found_here
    run.notes += sorted(set(loader.problems.values()))
    return FluxReport(reports, _unique(findings), run.notes)


def _unique(findings: list[FluxFinding]) -> list[FluxFinding]:
    seen: set[tuple[object, ...]] = set()
    out = []
    for f in findings:
        key = (f.rule, f.cluster, f.kustomization, f.path, f.line, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return sorted(out, key=lambda f: (f.cluster or "", f.path, f.line or 0, f.rule))


def _belongs(cluster: Cluster, applied: set[str]) -> Callable[[secrets.DecryptionSecret], bool]:
    def test(s: secrets.DecryptionSecret) -> bool:
        if s.file in applied:
            return True
        if cluster.entry and s.file.startswith(cluster.entry + "/"):
            return True
        base = s.file.rsplit("/", 1)[-1]
        return base.startswith(f"{cluster.name}-") or cluster.name in s.file.split("/")[:-1]
    return test


def _check(loader: Loader, cluster: Cluster, tracking: Tracking | None,  # noqa: PLR0917
           label: str,
           registry: Registry | None, notes: list[str]
           ) -> tuple[ClusterReport, list[FluxFinding]]:
    referenced = {n.decryption.secret for n in cluster.nodes
                  if n.decryption and n.decryption.secret}
    applied = {f for n in cluster.nodes if n.build for f in n.build.manifests}
    provided = [s for s in secrets.find(loader, referenced) if _belongs(cluster, applied)(s)]
    found: list[FluxFinding] = []
    found += delivery.paths(cluster)
    found += delivery.decryption(loader, cluster)
    found += delivery.not_secret(loader, cluster)
    found += delivery.secret_refs(cluster, provided)
    for secret in provided:
        found += delivery.entry_names(cluster.name, secret)
    keys: list[str]
    if registry is not None and cluster.name in registry.clusters:
        ck = cluster_keys(registry, cluster.name)
        keys = [k.name for k in ck]
        found += delivery.keys(loader, cluster, ck)
    else:
        if registry is not None:
            notes.append(f"cluster {cluster.name} is not in the registry: its keys are not "
                         "known, recipient outliers checked instead")
        keys = sorted({e for s in provided for e in s.entries
                       if e.endswith((secrets.AGE_SUFFIX, secrets.PGP_SUFFIX))})
        found += delivery.outliers(loader, cluster)
    files = {n.label: n.file for n in cluster.nodes}
    found = [replace(f, defined_in=files.get(f.kustomization or "")) for f in found]
    return ClusterReport(cluster, tracking, keys, label, provided), found


def secret_ref(repo: Path, cluster: str, registry: Registry | None = None
               ) -> tuple[str, str] | None:
    """(name, namespace) of the decryption Secret cluster `cluster`'s Kustomizations
    reference (the most referenced one); None when the repository has no such cluster or
    none of its Kustomizations names a Secret."""
    found = [c for c in _discover(Loader(working_tree(repo)), registry) if c.name == cluster]
    refs = Counter((n.decryption.secret, n.namespace) for c in found for n in c.nodes
                   if n.decryption is not None and n.decryption.secret)
    return refs.most_common(1)[0][0] if refs else None


def cluster_sources(repo: Path, registry: Registry | None = None
                    ) -> dict[str, tuple[Tracking, str]]:
    """Cluster name -> (the revision it reconciles, the file of its GitRepository), read
    from the Flux objects; clusters whose GitRepository is not committed, or whose semver
    range is improper (`flux check` reports it), are left out."""
    out: dict[str, tuple[Tracking, str]] = {}
    for cluster in _discover(Loader(working_tree(repo)), registry):
        if cluster.source is None or cluster.source.file is None:
            continue
        try:
            out[cluster.name] = (resolve(repo, cluster.source), cluster.source.file)
        except InputError:
            continue
    return out


def repository_clusters(repo: Path, registry: Registry | None = None) -> list[Cluster]:
    """The clusters the working tree's Flux objects define, named as the registry names
    them (for the runbook: which Kustomizations apply which files, and their paths)."""
    return _discover(Loader(working_tree(repo)), registry)


def provided_secrets(repo: Path) -> list[secrets.DecryptionSecret]:
    """The decryption Secrets the working tree commits (any Secret with `.agekey` entries
    or named by a Kustomization's `decryption.secretRef`)."""
    loader = Loader(working_tree(repo))
    found = discover(loader)
    referenced = {n.decryption.secret for c in found.clusters for n in c.nodes
                  if n.decryption is not None and n.decryption.secret}
    return secrets.find(loader, referenced)
