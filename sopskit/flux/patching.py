"""The parts of kustomize patching and Flux post-build substitution that decide delivery:
which patches reach a Flux Kustomization object, what they do to its `spec.decryption`,
and `${VAR}` substitution of the fields the check reads.

Patches are matched as kustomize selects (`target`: group, version, kind, name and
namespace as anchored regular expressions, label and annotation selectors of `k=v`
terms; a strategic-merge patch without a target patches the object of its kind and
name). Only the fields sopskit reads are patched: `spec.decryption`, `spec.path`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sopskit import regex
from sopskit.flux.kustomize import Patch
from sopskit.flux.objects import FLUX_KUSTOMIZE, dig


def _anchored(pattern: str, value: str) -> bool:
    """kustomize compiles a target's fields with Go's regexp, anchored (`^(?:p)$`): RE2
    semantics, and time linear in the name (Python's `re` backtracked for minutes on a
    target `name: (a+)+` against a long child name)."""
    compiled = regex.try_compile(pattern)
    return compiled.fullmatch(value) if compiled is not None else pattern == value


_TERM = re.compile(r"\s*(!?)\s*([^\s,=!()]+)\s*(?:(==|=|!=)\s*([^\s,()]*)|\s+(in|notin)\s*"
                   r"\(([^)]*)\))?\s*(?:,|$)")


def _selector(selector: str, values: Mapping[str, Any]) -> bool:
    """A Kubernetes label selector: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`,
    `k`, `!k`, comma-separated (all must hold). An unreadable selector selects nothing."""
    pos, text = 0, selector.strip()
    while pos < len(text):
        m = _TERM.match(text, pos)
        if m is None or m.end() == pos:
            return False
        pos = m.end()
        neg, key, op, want, setop, items = m.groups()
        have = values.get(key)
        if op in ("=", "=="):
            ok = have == want
        elif op == "!=":
            ok = have != want
        elif setop is not None:
            members = {i.strip() for i in items.split(",")}
            ok = (have in members) if setop == "in" else (have not in members)
        else:
            ok = (key in values) != bool(neg)
        if not ok:
            return False
    return True


def targets(target: Mapping[str, Any], obj: Mapping[str, Any], namespace: str) -> bool:
    """Whether a kustomize patch `target` selects the Flux Kustomization `obj`."""
    api = str(obj.get("apiVersion") or "")
    group, _, version = api.rpartition("/")
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    checks = (("kind", str(obj.get("kind") or "")), ("group", group), ("version", version),
              ("name", str(meta.get("name") or "")), ("namespace", namespace))
    for field, value in checks:
        want = target.get(field)
        if isinstance(want, str) and want and not _anchored(want, value):
            return False
    for field, key in (("labelSelector", "labels"), ("annotationSelector", "annotations")):
        want = target.get(field)
        values = meta.get(key) if isinstance(meta.get(key), dict) else {}
        if isinstance(want, str) and not _selector(want, values or {}):
            return False
    return True


def _untargeted(doc: Mapping[str, Any], obj: Mapping[str, Any]) -> bool:
    return (doc.get("kind") == obj.get("kind")
            and str(doc.get("apiVersion") or "").startswith(FLUX_KUSTOMIZE)
            and dig(doc, "metadata", "name") == dig(obj, "metadata", "name"))


def apply(patches: tuple[Patch, ...], obj: dict[str, Any], namespace: str) -> dict[str, Any]:
    """`obj` with the decryption and path changes of every patch that selects it."""
    spec = dict(obj.get("spec") or {}) if isinstance(obj.get("spec"), dict) else {}
    for patch in patches:
        if patch.target is not None and not targets(patch.target, obj, namespace):
            continue
        for doc in patch.docs:
            if isinstance(doc, list):
                _json6902(doc, spec)
            elif isinstance(doc, dict) and (patch.target is not None or _untargeted(doc, obj)):
                _merge(doc, spec)
    return {**obj, "spec": spec}


def _merge(doc: Mapping[str, Any], spec: dict[str, Any]) -> None:
    patch = doc.get("spec")
    if not isinstance(patch, dict):
        return
    if "decryption" in patch:
        value = patch["decryption"]
        base = spec.get("decryption") if isinstance(spec.get("decryption"), dict) else {}
        spec["decryption"] = ({**(base or {}), **value} if isinstance(value, dict)
                              else None)  # `decryption: null` deletes it (strategic merge)
    if isinstance(patch.get("path"), str):
        spec["path"] = patch["path"]


def _json6902(ops: list[Any], spec: dict[str, Any]) -> None:
    for op in ops:
        if not isinstance(op, dict):
            continue
        path, kind = str(op.get("path") or ""), op.get("op")
        if path == "/spec/decryption":
            spec["decryption"] = op.get("value") if kind in ("add", "replace") else None
        elif path.startswith("/spec/decryption/") and kind in ("add", "replace"):
            current = spec.get("decryption") if isinstance(spec.get("decryption"), dict) else {}
            field = path.removeprefix("/spec/decryption/")
            spec["decryption"] = {**(current or {}), field: op.get("value")}
        elif path == "/spec/path" and kind in ("add", "replace"):
            spec["path"] = op.get("value")


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[=-])([^}]*))?\}")


def substitute(text: str, variables: Mapping[str, str]) -> tuple[str, list[str]]:
    """Flux post-build substitution (drone/envsubst syntax: `${VAR}`, `${VAR:=default}`,
    `${VAR:-default}`) of one string; the names it could not resolve."""
    unresolved: list[str] = []

    def one(m: re.Match[str]) -> str:
        name, op, default = m.group(1), m.group(2), m.group(3)
        if name in variables:
            return variables[name]
        if op is not None:
            return default or ""
        unresolved.append(name)
        return m.group(0)

    return _VAR.sub(one, text), unresolved
