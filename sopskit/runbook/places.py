"""Where things are in this repository, as Flux sees it: which clusters apply which sops
file, and where each cluster's decryption Secret is kept.

The decryption Secret is encrypted to the admin keys: a cluster cannot decrypt it, so no
Flux Kustomization may apply it. The runbook writes it where the repository already keeps
it, else under `keys/flux/`, and says so when that lies inside a Kustomization's path.
"""

from __future__ import annotations

import posixpath
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sopskit.flux.check import provided_secrets, repository_clusters
from sopskit.flux.committed_secrets import DecryptionSecret
from sopskit.flux.decryption_secret import NAMESPACE, SECRET_NAME
from sopskit.flux.model import Cluster
from sopskit.registry.model import Registry
from sopskit.registry.resolve import resolve_or_none, rule_clusters

SECRET_DIR = "keys/flux"  # noqa: S105 - a directory, outside Flux's paths


@dataclass(frozen=True)
class SecretPlace:
    """Where `sopskit flux secret CLUSTER --out PATH` should write, and why not elsewhere."""

    cluster: str
    path: str
    name: str
    namespace: str
    inside: str | None = None  # the Kustomization whose path holds it, if any


@dataclass
class Places:
    """The repository's Flux layout, read once for a runbook."""

    clusters: dict[str, Cluster] = field(default_factory=dict)
    provided: list[DecryptionSecret] = field(default_factory=list)

    def readers(self, registry: Registry, relpath: str) -> tuple[str, ...]:
        """The clusters that apply `relpath`: from the Flux Kustomizations that build it,
        else from the registry rule that governs it."""
        flux = sorted(name for name, c in self.clusters.items()
                      if any(relpath in n.sops_files for n in c.nodes))
        if flux:
            return tuple(flux)
        res = resolve_or_none(registry, relpath)
        return rule_clusters(registry, res.rule.clusters) if res else ()

    def secret(self, cluster: str) -> SecretPlace:
        """Where the cluster's decryption Secret goes: the file the repository already
        commits for it, else `keys/flux/<cluster>-<name>.sops.yaml`."""
        name, namespace = self._secret_ref(cluster)
        found = next((s.file for s in self.provided if s.name == name
                      and _mentions(s.file, cluster, self.clusters.get(cluster))), None)
        path = found or f"{SECRET_DIR}/{cluster}-{name}.sops.yaml"
        return SecretPlace(cluster, path, name, namespace, self._inside(path))

    def _secret_ref(self, cluster: str) -> tuple[str, str]:
        found = self.clusters.get(cluster)
        refs = [(n.decryption.secret, n.namespace) for n in (found.nodes if found else [])
                if n.decryption is not None and n.decryption.secret]
        # the most used; ties to the first met (a set's order changed from run to run)
        return Counter(refs).most_common(1)[0][0] if refs else (SECRET_NAME, NAMESPACE)

    def _inside(self, path: str) -> str | None:
        """The first Kustomization (any cluster) whose spec.path holds `path`."""
        for cluster in self.clusters.values():
            for node in cluster.nodes:
                base = posixpath.normpath(node.path) if node.path is not None else None
                if base is not None and (base == "." or path.startswith(base + "/")):
                    return f"{node.label} (path ./{'' if base == '.' else base})"
        return None


def _mentions(file: str, cluster: str, model: Cluster | None) -> bool:
    if model is not None and model.entry and file.startswith(model.entry + "/"):
        return True
    return cluster in file.split("/")[:-1] or file.rsplit("/", 1)[-1].startswith(cluster)


def read_places(repo: Path, registry: Registry) -> Places:
    return Places({c.name: c for c in repository_clusters(repo, registry)},
                  provided_secrets(repo))


def group_by_readers(places: Places, registry: Registry,
                     files: list[str]) -> dict[tuple[str, ...], list[str]]:
    """Files grouped by the set of clusters that apply them."""
    groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for rel in files:
        groups[places.readers(registry, rel)].append(rel)
    return dict(groups)
