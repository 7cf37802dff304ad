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
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sopskit.flux import patching
from sopskit.flux.kustomize import Build, Builder, Patch, Ref, join, parse_inline
from sopskit.flux.loader import Loader
from sopskit.flux.model import Cluster, Decryption, GitSource, Node, SourceRef
from sopskit.flux.objects import Doc, dig
from sopskit.sopsfile.document import detect_format, looks_like_sops

DEFAULT_NAMESPACE = "flux-system"
# trailing directory names that say nothing about which cluster it is
_GENERIC = frozenset({"flux", "flux-system", "cluster", "clusters", "base", "bootstrap",
                      "config", "kubernetes", "k8s", "sync", "deploy"})


@dataclass
class Repo:
    clusters: list[Cluster]
    git_sources: list[Doc]
    notes: list[str] = field(default_factory=list)


def _entry_path(raw: str) -> str | None:
    return join("", raw.lstrip("/")) if raw else ""


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
        path = _entry_path(raw)
        if path is None or "${" in raw:
            return None
        comps = tuple(c for c in dig(doc.data, "spec", "components") or []
                      if isinstance(c, str))
        return self.build(path, comps, Ref(raw, doc.file, doc.line, "spec.path"))

    def own_sources(self) -> set[SourceRef]:
        """The sources that are this repository: the bootstrap's `flux-system` (a
        GitRepository or OCIRepository), a FluxInstance's sync, a GitRepository defined in
        the same file as a Kustomization using it (gotk-sync.yaml)."""
        own = {_source_ref(d.data, d.namespace or DEFAULT_NAMESPACE)
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
            ref = _source_ref(d.data, d.namespace or DEFAULT_NAMESPACE)
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
                if self.is_own(_source_ref(d.data, d.namespace or DEFAULT_NAMESPACE), own_refs)]
        reached: set[str] = set()
        own: list[Doc] = []
        for doc in mine:
            build = self.raw_build(doc, "spec.path")
            if build is None:
                continue
            self.built_paths.add(_entry_path(doc.get("spec", "path")) or "")
            if doc.file in build.patches:
                own.append(doc)
            reached.update(f for f in build.manifests if f != doc.file)
        out: list[tuple[str, list[Doc], Doc | None]] = []
        for inst in self.instances:
            build = self.raw_build(inst, "spec.sync.path")
            if build is not None:
                reached.update(build.manifests)
            out.append((_entry_path(inst.get("spec", "sync", "path")) or "", [], inst))
        # a bootstrap Kustomization is an entry unless another bootstrap one applies it
        by_roots: set[str] = set()
        for doc in own:
            build = self.raw_build(doc, "spec.path")
            by_roots.update(f for f in (build.manifests if build else ()) if f != doc.file)
        for doc in own:
            if doc.file not in by_roots:
                out.append((_entry_path(doc.get("spec", "path")) or "", [doc], None))
        orphans: dict[str, list[Doc]] = {}
        for doc in self.kustomizations:
            if doc.file not in reached and doc not in own and not self._stale(doc):
                orphans.setdefault(posixpath.dirname(doc.file), []).append(doc)
        # leftovers whose paths are all gone are no entry, unless they sit where clusters
        # live (`clusters/<name>`, their sources elsewhere: OCI, ExternalArtifact, ...)
        out += [(entry, docs, None) for entry, docs in sorted(orphans.items())
                if any(self.loader.tree.is_dir(_entry_path(d.get("spec", "path")) or "")
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


def _source_ref(doc_data: Any, namespace: str) -> SourceRef:
    ref = dig(doc_data, "spec", "sourceRef") or {}
    return SourceRef(str(ref.get("kind") or "GitRepository"), str(ref.get("name") or ""),
                     str(ref.get("namespace") or namespace))


def _decryption(data: Any) -> Decryption | None:
    dec = dig(data, "spec", "decryption")
    if not isinstance(dec, dict):
        return None
    secret = dig(dec, "secretRef", "name")
    return Decryption(str(dec.get("provider") or ""),
                      secret if isinstance(secret, str) and secret else None)


def _flux_patches(data: Any, where: str) -> tuple[Patch, ...]:
    out = []
    for item in dig(data, "spec", "patches") or []:
        if isinstance(item, dict) and isinstance(item.get("patch"), str):
            target = item.get("target") if isinstance(item.get("target"), dict) else None
            out.append(Patch(parse_inline(item["patch"], where), target, where))
    return tuple(out)


def _substituted(value: Any, variables: dict[str, str], missing: list[str]) -> Any:
    if isinstance(value, str):
        text, unresolved = patching.substitute(value, variables)
        missing += unresolved
        return text
    if isinstance(value, dict):
        return {k: _substituted(v, variables, missing) for k, v in value.items()}
    if isinstance(value, list):
        return [_substituted(v, variables, missing) for v in value]
    return value


def _git_source(doc: Doc) -> GitSource:
    ref = dig(doc.data, "spec", "ref") or {}

    def get(key: str) -> str | None:
        value = ref.get(key) if isinstance(ref, dict) else None
        return value if isinstance(value, str) and value else None

    return GitSource(doc.name, doc.namespace or DEFAULT_NAMESPACE, doc.file,
                     doc.get("spec", "url") or None, get("branch"), get("tag"), get("semver"),
                     get("commit"), get("name"))


def _instance_source(doc: Doc) -> GitSource:
    """flux-operator: `spec.sync.ref` is a full ref (`refs/heads/main`, `refs/tags/v1`)."""
    ref = doc.get("spec", "sync", "ref")
    ns = doc.namespace or DEFAULT_NAMESPACE
    name = doc.get("spec", "sync", "name") or ns
    url = doc.get("spec", "sync", "url") or None
    for prefix, kind in (("refs/heads/", "branch"), ("refs/tags/", "tag")):
        if ref.startswith(prefix):
            value = ref.removeprefix(prefix)
            return GitSource(name, ns, doc.file, url, value if kind == "branch" else None,
                             value if kind == "tag" else None)
    return GitSource(name, ns, doc.file, url, name_ref=ref or None)


class _Walk:
    """Follows one cluster's tree from its roots."""

    def __init__(self, disc: _Discovery, cluster: Cluster) -> None:
        self.disc = disc
        self.cluster = cluster
        self.seen: set[tuple[str, int]] = set()
        self.configmaps: dict[str, dict[str, str]] = {}

    def node(self, data: Any, doc: Doc, namespace: str, unresolved: tuple[str, ...] = ()
             ) -> Node:
        raw = str(dig(data, "spec", "path") or "")
        source = _source_ref(data, namespace)
        path = None if unresolved else _entry_path(raw)
        node = Node(namespace, str(dig(data, "metadata", "name") or ""), doc.file, doc.line,
                    path, raw, source, _decryption(data),
                    self.disc.is_own(source, self.disc.own_refs), unresolved=unresolved)
        if node.local and path is not None:
            comps = tuple(join(path, c) or "" for c in dig(data, "spec", "components") or []
                          if isinstance(c, str))
            node.build = self.disc.build(path, tuple(posixpath.relpath(c, path or ".")
                                                     for c in comps),
                                         Ref(raw, doc.file, doc.line, "spec.path"))
            node.sops_files = _sops_files(self.disc.loader, node.build)
        return node

    def run(self, roots: list[tuple[Any, Doc]]) -> None:
        queue: list[tuple[Node, Any]] = []
        for raw, doc in roots:
            self.seen.add((doc.file, doc.line))
            ns = doc.namespace or DEFAULT_NAMESPACE
            node, data = self.node(raw, doc, ns), raw
            if node.build is not None and doc.file in node.build.patches:
                # a bootstrap Kustomization patched by its own flux-system/kustomization.yaml
                data = patching.apply(node.build.patches[doc.file], raw, ns)
                node = self.node(data, doc, ns)
            self.cluster.roots.append(node)
            queue.append((node, data))
        while queue:
            node, data = queue.pop(0)
            self.cluster.nodes.append(node)
            for child, child_data in self.children(node, data):
                node.children.append(child)
                queue.append((child, child_data))

    def children(self, parent: Node, data: Any) -> Iterator[tuple[Node, Any]]:
        if parent.build is None:
            return
        flux_patches = _flux_patches(data, parent.file)
        loader = self.disc.loader
        for rel in parent.build.manifests:
            if not loader.has(rel, b"toolkit.fluxcd.io", b"ConfigMap"):
                continue
            for doc in loader.docs(rel):
                self._config_map(doc)
                if not (doc.is_flux_kustomization and isinstance(dig(doc.data, "spec",
                                                                      "sourceRef"), dict)):
                    continue
                if (doc.file, doc.line) in self.seen:
                    continue
                self.seen.add((doc.file, doc.line))
                namespace = (dig(data, "spec", "targetNamespace")
                             or parent.build.namespace.get(rel) or doc.namespace
                             or parent.namespace)
                missing: list[str] = []
                obj = _substituted(doc.data, self._variables(data), missing)
                obj = patching.apply(parent.build.patches[rel] + flux_patches, obj, namespace)
                unresolved = tuple(sorted(set(missing) & set(_VARS.findall(
                    str(dig(obj, "spec", "path") or "")))))
                yield self.node(obj, doc, str(namespace), unresolved), obj

    def _config_map(self, doc: Doc) -> None:
        if doc.kind == "ConfigMap" and isinstance(doc.data.get("data"), dict):
            self.configmaps.setdefault(doc.name, {k: v for k, v in doc.data["data"].items()
                                                  if isinstance(v, str)})

    def _variables(self, data: Any) -> dict[str, str]:
        out: dict[str, str] = {}
        for ref in dig(data, "spec", "postBuild", "substituteFrom") or []:
            if isinstance(ref, dict) and ref.get("kind") == "ConfigMap":
                out.update(self.configmaps.get(str(ref.get("name")), {}))
        inline = dig(data, "spec", "postBuild", "substitute")
        if isinstance(inline, dict):
            out.update({k: v for k, v in inline.items() if isinstance(v, str)})
        return out


_CLUSTERS_DIR = re.compile(r"(^|/)clusters/[^/]+$")
_VARS = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")


def _sops_files(loader: Loader, build: Build) -> list[str]:
    """Applied files with sops metadata and generator sources that are sops files."""
    out = [rel for rel in build.manifests if loader.has(rel, b"sops:", b'"sops"')
           and any(d.is_sops for d in loader.docs(rel))]
    for ref in build.secret_sources + build.configmap_sources:
        data = loader.tree.read(ref.value)
        if data is not None and looks_like_sops(data, detect_format(ref.value)):
            out.append(ref.value)
    return sorted(set(out))


def _own_source(disc: _Discovery, roots: list[Doc], instance: Doc | None,
                entry_build: Build | None) -> GitSource | None:
    """The GitRepository the cluster reconciles this repository from, when committed."""
    if instance is not None:
        return _instance_source(instance)
    ref = next((r for r in (_source_ref(d.data, d.namespace or DEFAULT_NAMESPACE)
                            for d in roots) if disc.is_own(r, disc.own_refs)), None)
    if ref is None:
        return None
    applied = set(entry_build.manifests) if entry_build else set()
    matches = [d for d in disc.git_sources if d.name == ref.name
               and (d.namespace or DEFAULT_NAMESPACE) == ref.namespace]
    matches.sort(key=lambda d: d.file not in applied)
    if matches and ref.kind == "GitRepository":
        return _git_source(matches[0])
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
        walk = _Walk(disc, cluster)
        pairs: list[tuple[Any, Doc]] = [(d.data, d) for d in roots]
        if instance is not None:
            pairs = [(_instance_root(instance), instance)]
        walk.run(pairs)
        clusters.append(cluster)
    return Repo(clusters, disc.git_sources, sorted(loader.problems.values()))


def _instance_root(inst: Doc) -> dict[str, Any]:
    """The Kustomization a FluxInstance's sync creates (named after the namespace unless
    `spec.sync.name` says), with the instance's `spec.kustomize.patches` applied (that is
    where flux-operator users add `decryption` to it)."""
    ns = inst.namespace or DEFAULT_NAMESPACE
    name = inst.get("spec", "sync", "name") or ns
    root = {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"path": inst.get("spec", "sync", "path"),
                     "sourceRef": {"kind": inst.get("spec", "sync", "kind") or "GitRepository",
                                   "name": name}}}
    patches = _flux_patches({"spec": {"patches": dig(inst.data, "spec", "kustomize",
                                                     "patches")}}, inst.file)
    return patching.apply(patches, root, ns)
