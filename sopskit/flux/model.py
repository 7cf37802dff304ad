"""The Flux model of a repository: clusters, the Flux Kustomizations each reaches, their
sources and what they apply. Plain values, built by `discover`."""

from __future__ import annotations

from dataclasses import dataclass, field

from sopskit.flux.kustomize import Build


@dataclass(frozen=True)
class SourceRef:
    kind: str
    name: str
    namespace: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Decryption:
    provider: str
    secret: str | None  # spec.decryption.secretRef.name


@dataclass(frozen=True)
class GitSource:
    """A GitRepository (or a FluxInstance's sync) and the ref it follows."""

    name: str
    namespace: str
    file: str | None
    url: str | None = None
    branch: str | None = None
    tag: str | None = None
    semver: str | None = None
    commit: str | None = None
    name_ref: str | None = None  # spec.ref.name (a full ref such as refs/heads/main)


@dataclass
class Node:
    """One Flux Kustomization as a cluster sees it (patched and substituted)."""

    namespace: str
    name: str
    file: str  # where it is defined
    line: int
    path: str | None  # repository path of spec.path (None: leaves the repository)
    raw_path: str
    source: SourceRef
    decryption: Decryption | None
    local: bool  # its source is the cluster's own repository
    build: Build | None = None
    unresolved: tuple[str, ...] = ()  # variables of spec.path nobody defines
    children: list[Node] = field(default_factory=list)
    sops_files: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass
class Cluster:
    name: str
    entry: str  # the directory its root Kustomization(s) build
    roots: list[Node]
    source: GitSource | None
    nodes: list[Node] = field(default_factory=list)  # every Kustomization reached, in order
    resolved: str | None = None  # the revision Flux reconciles (tag or branch@commit)
