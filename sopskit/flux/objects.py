"""Kubernetes objects as Flux reads them from the repository's YAML files.

Every YAML file is read as a multi-document stream into plain data (mappings, lists and
string scalars: the checks compare names and paths, never typed values), each document
with the line it starts on. The Flux kinds sopskit models are picked out here: the
`Kustomization` of `kustomize.toolkit.fluxcd.io` (v1, v1beta2, v1beta1), the
`GitRepository` of `source.toolkit.fluxcd.io`, and the flux-operator's `FluxInstance`
(whose `spec.sync` stands for a bootstrap's flux-system objects).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sopskit import yamlio
from sopskit.errors import InputError

FLUX_KUSTOMIZE = "kustomize.toolkit.fluxcd.io"
FLUX_SOURCE = "source.toolkit.fluxcd.io"
KUSTOMIZE_CONFIG = "kustomize.config.k8s.io"


@dataclass(frozen=True)
class Doc:
    """One YAML document of a file: plain data and the line it starts on."""

    file: str
    line: int
    data: Any

    @property
    def api_group(self) -> str:
        api = self.get("apiVersion")
        return api.rsplit("/", 1)[0] if "/" in api else ""

    def get(self, *path: str) -> str:
        """A string field (`""` when absent or not a string)."""
        value = dig(self.data, *path)
        return value if isinstance(value, str) else ""

    @property
    def kind(self) -> str:
        return self.get("kind")

    @property
    def name(self) -> str:
        return self.get("metadata", "name")

    @property
    def namespace(self) -> str:
        return self.get("metadata", "namespace")

    @property
    def is_sops(self) -> bool:
        meta = self.data.get("sops") if isinstance(self.data, dict) else None
        return isinstance(meta, dict) and ("mac" in meta or "lastmodified" in meta)

    @property
    def is_flux_kustomization(self) -> bool:
        return self.kind == "Kustomization" and self.api_group == FLUX_KUSTOMIZE

    @property
    def is_git_repository(self) -> bool:
        return self.kind == "GitRepository" and self.api_group == FLUX_SOURCE

    @property
    def is_flux_instance(self) -> bool:
        return self.kind == "FluxInstance"


def listed(value: Any) -> list[Any]:
    """`value` when it is a list, else [] (a hand-written `patches: 5` is no list to
    iterate; the API server would refuse it, the check must not crash on it)."""
    return value if isinstance(value, list) else []


def dig(data: Any, *path: str) -> Any:
    for step in path:
        if not isinstance(data, dict):
            return None
        data = data.get(step)
    return data


def _plain(node: Any) -> Any:
    """A composed node as plain data: scalars stay strings (aliases are shared nodes)."""
    kind = type(node).__name__
    if kind == "MappingNode":
        out: dict[str, Any] = {}
        for key, value in node.value:
            if type(key).__name__ == "ScalarNode":
                out[str(key.value)] = _plain(value)
        return out
    if kind == "SequenceNode":
        return [_plain(item) for item in node.value]
    value = node.value
    return None if yamlio.node_tag(node).endswith(":null") or value in ("", "~", "null") \
        else str(value)


def parse_docs(text: str, *, path: str) -> list[Doc]:
    """Every document of a YAML stream (empty ones left out); InputError when the file is
    not YAML, naming the file and line."""
    docs = []
    for node in yamlio.compose_all(text, path=path):
        if node is None:
            continue
        docs.append(Doc(path, node.start_mark.line + 1, _plain(node)))
    return docs


def read_docs(data: bytes, *, path: str) -> list[Doc]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", path=path) from None
    return parse_docs(text, path=path)
