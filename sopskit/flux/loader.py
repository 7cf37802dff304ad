"""Reading a tree's YAML once: documents per file (cached), kustomization files per
directory, and the problems met on the way (a file that is not YAML is a note, not a stop:
Flux may never apply it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sopskit.errors import InputError
from sopskit.flux.objects import Doc, read_docs
from sopskit.flux.tree import Tree

# kustomize's konfig.RecognizedKustomizationFileNames, in its order
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
YAML_SUFFIXES = (".yaml", ".yml")
# the API groups / kinds of every object flux.discover looks for
_DISCOVERED = (b"kustomize.toolkit.fluxcd.io", b"source.toolkit.fluxcd.io", b"FluxInstance")


def holds_discovered(rel: str, data: bytes) -> bool:
    """Whether a file's bytes may hold an object discovery reads (the byte test of
    `Loader.flux_candidates`; a caller that has read the file already can pass it on)."""
    return rel.endswith(YAML_SUFFIXES) and any(n in data for n in _DISCOVERED)


@dataclass
class Loader:
    tree: Tree
    # rel -> holds_discovered(rel, bytes), from a caller that read those files already
    # (the audit's scan): flux_candidates reads only the files it does not cover
    known: Mapping[str, bool] = field(default_factory=dict)
    _docs: dict[str, list[Doc]] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)  # file -> one-line problem

    def docs(self, rel: str) -> list[Doc]:
        """The documents of `rel` ([] when it cannot be read or parsed; see problems)."""
        cached = self._docs.get(rel)
        if cached is not None:
            return cached
        data = self.tree.read(rel)
        docs: list[Doc] = []
        if data is None:
            self.problems[rel] = f"{rel}: cannot read (too large or unreadable)"
        else:
            try:
                docs = read_docs(data, path=rel)
            except InputError as exc:
                self.problems[rel] = str(exc)
        self._docs[rel] = docs
        return docs

    def has(self, rel: str, *needles: bytes) -> bool:
        """Whether the file's bytes hold any of `needles` (a test before any parse)."""
        data = self.tree.read(rel)
        return data is not None and any(n in data for n in needles)

    def kustomization_file(self, directory: str) -> str | None:
        """The kustomization file of `directory`, or None."""
        for name in KUSTOMIZATION_FILES:
            rel = f"{directory}/{name}" if directory else name
            if self.tree.is_file(rel):
                return rel
        return None

    def kustomization(self, rel: str) -> Doc | None:
        """The kustomization document of file `rel` (the first mapping)."""
        return next((d for d in self.docs(rel) if isinstance(d.data, dict)), None)

    def flux_candidates(self) -> list[str]:
        """YAML files that may hold the Flux objects discovery reads (Kustomizations,
        GitRepositories, FluxInstances): a cheap byte test before any parse. HelmReleases
        (`helm.toolkit.fluxcd.io`), thousands in a large tree, are never composed here."""
        out = []
        for rel in sorted(self.tree.files):
            if not rel.endswith(YAML_SUFFIXES):
                continue
            known = self.known.get(rel)
            if known is None:
                data = self.tree.read(rel)
                known = data is not None and holds_discovered(rel, data)
            if known:
                out.append(rel)
        return out
