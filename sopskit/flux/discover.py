"""Finding the clusters of a repository and the tree of Flux Kustomizations each reaches.

A cluster's entry is what `flux bootstrap` writes: the `flux-system` Kustomization whose
build includes the file defining it (`spec.path: ./clusters/<name>`), or a flux-operator
`FluxInstance` (`spec.sync.path`), or, when neither is committed, a directory of Flux
Kustomizations that nothing in the repository applies (the one a FluxInstance outside the
repository syncs). From each entry the Kustomizations its builds apply are followed, as
kustomize-controller would apply them: patched by the parent's `spec.patches` and the
kustomize patches in force, post-build variables of the parent substituted.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from sopskit.flux.fields import (
    DEFAULT_NAMESPACE,
    components,
    entry_path,
    git_source,
    instance_root,
    instance_source,
    source_ref,
)
from sopskit.flux.kustomize import Build, Builder, Ref
from sopskit.flux.loader import Loader
from sopskit.flux.model import Cluster, GitSource, SourceRef
from sopskit.flux.objects import Doc, dig
from sopskit.flux.walk import Walk

# trailing directory names that say nothing about which cluster it is
_GENERIC = frozenset({"flux", "flux-system", "cluster", "clusters", "base", "bootstrap",
                      "config", "kubernetes", "k8s", "sync", "deploy"})


@dataclass
class Repo:
    clusters: list[Cluster]
    git_sources: list[Doc]
    notes: list[str] = field(default_factory=list)


def cluster_name(entry: str, taken: set[str]) -> str:
    """`clusters/<name>` gives the name; else the last telling directory of the entry."""
    parts = [p for p in entry.split("/") if p]
    if "clusters" in parts[:-1]:
        name = parts[parts.index("clusters") + 1]
    else:
        telling = [p for p in parts if p not in _GENERIC]
        name = telling[-1] if telling else (parts[-1] if parts else "default")
    return entry or "." if name in taken else name


class _Discovery:
    def __init__(self, loader: Loader) -> None:
        self.loader = loader
        self.builder = Builder(loader)
        self._builds: dict[tuple[str, tuple[str, ...]], Build] = {}
        self.docs = [d for f in loader.flux_candidates() for d in loader.docs(f)]
        self.kustomizations = [d for d in self.docs if d.is_flux_kustomization
                               and isinstance(dig(d.data, "spec", "sourceRef"), dict)]
        self.git_sources = [d for d in self.docs if d.is_git_repository]
        self.instances = [d for d in self.docs if d.is_flux_instance
                          and isinstance(dig(d.data, "spec", "sync", "path"), str)]
        self.own_refs = self.own_sources()
        self.built_paths: set[str] = set()

    def build(self, path: str, components: tuple[str, ...], where: Ref) -> Build:
        key = (path, components)
        if key not in self._builds:
            self._builds[key] = self.builder.flux_build(path, list(components), where)
        return self._builds[key]

    def raw_build(self, doc: Doc, path_field: str) -> Build | None:
        raw = str(dig(doc.data, *path_field.split(".")) or "")
        path = entry_path(raw)
        if path is None or "${" in raw:
            return None
        return self.build(path, components(doc.data), Ref(raw, doc.file, doc.line, "spec.path"))

    def own_sources(self) -> set[SourceRef]:
        """The sources that are this repository: the bootstrap's `flux-system` (a
        GitRepository or OCIRepository), a FluxInstance's sync, a GitRepository defined in
        the same file as a Kustomization using it (gotk-sync.yaml)."""
        own = {source_ref(d.data, d.namespace or DEFAULT_NAMESPACE)
               for d in self.kustomizations
               if dig(d.data, "spec", "sourceRef", "name") == DEFAULT_NAMESPACE}
        for inst in self.instances:
            ns = inst.namespace or DEFAULT_NAMESPACE
            own.add(SourceRef(inst.get("spec", "sync", "kind") or "GitRepository",
                              inst.get("spec", "sync", "name") or ns, ns))
        defined = {(d.file, d.name) for d in self.git_sources}
        for d in self.kustomizations:
            # bootstrap-like: the GitRepository beside a Kustomization whose explicit path
            # applies that very file (`flux bootstrap --name X`, hand-written bootstraps)
            ref = source_ref(d.data, d.namespace or DEFAULT_NAMESPACE)
            if (ref.kind == "GitRepository" and (d.file, ref.name) in defined
                    and d.get("spec", "path").strip("./")):
                build = self.raw_build(d, "spec.path")
                if build is not None and d.file in build.patches:
                    own.add(ref)
        return own

    def is_own(self, ref: SourceRef, own: set[SourceRef]) -> bool:
        if own:
            return ref in own
        # nothing says which source is this repository: a GitRepository the repository
        # does not define (it is created outside, as flux bootstrap or an operator does)
        return ref.kind == "GitRepository" and ref.name not in {d.name for d in
                                                                self.git_sources}

    def entries(self) -> list[tuple[str, list[Doc], Doc | None]]:
        """(entry directory, root Kustomizations, FluxInstance) per cluster."""
        own_refs = self.own_refs
        mine = [d for d in self.kustomizations
                if self.is_own(source_ref(d.data, d.namespace or DEFAULT_NAMESPACE), own_refs)]
        reached: set[str] = set()
        own: list[Doc] = []
        for doc in mine:
            build = self.raw_build(doc, "spec.path")
            if build is None:
                continue
            self.built_paths.add(entry_path(doc.get("spec", "path")) or "")
            if doc.file in build.patches:
                own.append(doc)
            reached.update(f for f in build.manifests if f != doc.file)
        out: list[tuple[str, list[Doc], Doc | None]] = []
        for inst in self.instances:
            build = self.raw_build(inst, "spec.sync.path")
            if build is not None:
                reached.update(build.manifests)
            out.append((entry_path(inst.get("spec", "sync", "path")) or "", [], inst))
        # a bootstrap Kustomization is an entry unless another bootstrap one applies it
        by_roots: set[str] = set()
        for doc in own:
            build = self.raw_build(doc, "spec.path")
            by_roots.update(f for f in (build.manifests if build else ()) if f != doc.file)
        for doc in own:
            if doc.file not in by_roots:
                out.append((entry_path(doc.get("spec", "path")) or "", [doc], None))
        orphans: dict[str, list[Doc]] = {}
        for doc in self.kustomizations:
            if doc.file not in reached and doc not in own and not self._stale(doc):
                orphans.setdefault(posixpath.dirname(doc.file), []).append(doc)
        # leftovers whose paths are all gone are no entry, unless they sit where clusters
        # live (`clusters/<name>`, their sources elsewhere: OCI, ExternalArtifact, ...)
        out += [(entry, docs, None) for entry, docs in sorted(orphans.items())
                if any(self.loader.tree.is_dir(entry_path(d.get("spec", "path")) or "")
                       for d in docs) or _CLUSTERS_DIR.search(entry)]
        return out

    def _stale(self, doc: Doc) -> bool:
        """A Kustomization nothing applies although it lies where Flux builds (a file kept
        but left out of `resources`), or in a hidden directory (`.archive/`)."""
        directory = posixpath.dirname(doc.file)
        if any(part.startswith(".") for part in directory.split("/")):
            return True
        return any(p and (directory == p or directory.startswith(p + "/"))
                   for p in self.built_paths)


_CLUSTERS_DIR = re.compile(r"(^|/)clusters/[^/]+$")
def _own_source(disc: _Discovery, roots: list[Doc], instance: Doc | None,
                entry_build: Build | None) -> GitSource | None:
    """The GitRepository the cluster reconciles this repository from, when committed."""
    if instance is not None:
        return instance_source(instance)
    ref = next((r for r in (source_ref(d.data, d.namespace or DEFAULT_NAMESPACE)
                            for d in roots) if disc.is_own(r, disc.own_refs)), None)
    if ref is None:
        return None
    applied = set(entry_build.manifests) if entry_build else set()
    matches = [d for d in disc.git_sources if d.name == ref.name
               and (d.namespace or DEFAULT_NAMESPACE) == ref.namespace]
    matches.sort(key=lambda d: d.file not in applied)
    if matches and ref.kind == "GitRepository":
        return git_source(matches[0])
    return GitSource(ref.name, ref.namespace, None)


def discover(loader: Loader) -> Repo:
    """Every cluster of the tree and the Kustomizations it reaches."""
    disc = _Discovery(loader)
    clusters: list[Cluster] = []
    taken: set[str] = set()
    for entry, roots, instance in disc.entries():
        name = cluster_name(entry, taken)
        taken.add(name)
        root_build = disc.raw_build(roots[0], "spec.path") if roots else None
        cluster = Cluster(name, entry, [], _own_source(disc, roots, instance, root_build))
        walk = Walk(disc, cluster)
        pairs: list[tuple[Any, Doc]] = [(d.data, d) for d in roots]
        if instance is not None:
            pairs = [(instance_root(instance), instance)]
        walk.run(pairs)
        clusters.append(cluster)
    return Repo(clusters, disc.git_sources, sorted(loader.problems.values()))


