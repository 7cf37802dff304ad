"""Reading the fields of Flux objects that the model needs: where a Kustomization's path
points, its source and decryption, its `spec.patches`, a GitRepository's ref, and what a
flux-operator FluxInstance's sync stands for."""

from __future__ import annotations

from typing import Any

from sopskit.flux import patching
from sopskit.flux.kustomize import Patch, join, parse_inline
from sopskit.flux.model import Decryption, GitSource, SourceRef
from sopskit.flux.objects import Doc, dig, listed

DEFAULT_NAMESPACE = "flux-system"


def entry_path(raw: str) -> str | None:
    return join("", raw.lstrip("/")) if raw else ""


def components(data: Any) -> tuple[str, ...]:
    """`spec.components`, relative to `spec.path` as written (the builder joins them and
    reports one that leaves the repository)."""
    return tuple(c for c in listed(dig(data, "spec", "components")) if isinstance(c, str))


def source_ref(doc_data: Any, namespace: str) -> SourceRef:
    ref = dig(doc_data, "spec", "sourceRef") or {}
    return SourceRef(str(ref.get("kind") or "GitRepository"), str(ref.get("name") or ""),
                     str(ref.get("namespace") or namespace))


def decryption(data: Any) -> Decryption | None:
    dec = dig(data, "spec", "decryption")
    if not isinstance(dec, dict):
        return None
    secret = dig(dec, "secretRef", "name")
    return Decryption(str(dec.get("provider") or ""),
                      secret if isinstance(secret, str) and secret else None)


def flux_patches(data: Any, where: str) -> tuple[Patch, ...]:
    out = []
    for item in listed(dig(data, "spec", "patches")):
        if isinstance(item, dict) and isinstance(item.get("patch"), str):
            target = item.get("target") if isinstance(item.get("target"), dict) else None
            out.append(Patch(parse_inline(item["patch"], where), target, where))
    return tuple(out)



def git_source(doc: Doc) -> GitSource:
    ref = dig(doc.data, "spec", "ref") or {}

    def get(key: str) -> str | None:
        value = ref.get(key) if isinstance(ref, dict) else None
        return value if isinstance(value, str) and value else None

    return GitSource(doc.name, doc.namespace or DEFAULT_NAMESPACE, doc.file,
                     doc.get("spec", "url") or None, get("branch"), get("tag"), get("semver"),
                     get("commit"), get("name"))


def instance_source(doc: Doc) -> GitSource:
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


def instance_root(inst: Doc) -> dict[str, Any]:
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
    patches = flux_patches({"spec": {"patches": dig(inst.data, "spec", "kustomize",
                                                     "patches")}}, inst.file)
    return patching.apply(patches, root, ns)
