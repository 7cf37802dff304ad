"""Following one cluster's tree: from its root Kustomizations, every Flux Kustomization
their builds apply, as kustomize-controller applies it (the parent's `spec.patches` and the
kustomize patches in force, the parent's post-build variables substituted), with what each
builds and which of the files it applies are sops files."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Protocol

from sopskit.flux import patching
from sopskit.flux.fields import (
    DEFAULT_NAMESPACE,
    components,
    decryption,
    entry_path,
    flux_patches,
    source_ref,
)
from sopskit.flux.kustomize import Build, Ref
from sopskit.flux.loader import Loader
from sopskit.flux.model import Cluster, Node, SourceRef
from sopskit.flux.objects import Doc, dig, listed
from sopskit.sopsfile.document import detect_format, looks_like_sops


class Builds(Protocol):
    """What the walk needs from the discovery: memoised builds and which sources are this
    repository."""

    loader: Loader
    own_refs: set[SourceRef]

    def build(self, path: str, components: tuple[str, ...], where: Ref) -> Build: ...

    def is_own(self, ref: SourceRef, own: set[SourceRef]) -> bool: ...


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



class Walk:
    """Follows one cluster's tree from its roots."""

    def __init__(self, disc: Builds, cluster: Cluster) -> None:
        self.disc = disc
        self.cluster = cluster
        self.seen: set[tuple[str, int]] = set()
        self.configmaps: dict[str, dict[str, str]] = {}

    def node(self, data: Any, doc: Doc, namespace: str, unresolved: tuple[str, ...] = ()
             ) -> Node:
        raw = str(dig(data, "spec", "path") or "")
        source = source_ref(data, namespace)
        path = None if unresolved else entry_path(raw)
        node = Node(namespace, str(dig(data, "metadata", "name") or ""), doc.file, doc.line,
                    path, raw, source, decryption(data),
                    self.disc.is_own(source, self.disc.own_refs), unresolved=unresolved)
        if node.local and path is not None:
            node.build = self.disc.build(path, components(data),
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
        inherited = flux_patches(data, parent.file)
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
                obj = patching.apply(parent.build.patches[rel] + inherited, obj, namespace)
                unresolved = tuple(sorted(set(missing) & set(_VARS.findall(
                    str(dig(obj, "spec", "path") or "")))))
                yield self.node(obj, doc, str(namespace), unresolved), obj

    def _config_map(self, doc: Doc) -> None:
        if doc.kind == "ConfigMap" and isinstance(doc.data.get("data"), dict):
            self.configmaps.setdefault(doc.name, {k: v for k, v in doc.data["data"].items()
                                                  if isinstance(v, str)})

    def _variables(self, data: Any) -> dict[str, str]:
        out: dict[str, str] = {}
        for ref in listed(dig(data, "spec", "postBuild", "substituteFrom")):
            if isinstance(ref, dict) and ref.get("kind") == "ConfigMap":
                out.update(self.configmaps.get(str(ref.get("name")), {}))
        inline = dig(data, "spec", "postBuild", "substitute")
        if isinstance(inline, dict):
            out.update({k: v for k, v in inline.items() if isinstance(v, str)})
        return out


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
