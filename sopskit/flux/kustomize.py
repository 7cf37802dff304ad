"""What a Flux Kustomization applies, built as kustomize-controller builds it (without
running kustomize): the manifest files, the generator sources, the patches in force and
the references that do not resolve.

With a kustomization file, `resources` (and the legacy `bases`), `components`, `patches`,
`patchesStrategicMerge`, `patchesJson6902`, and `secretGenerator` / `configMapGenerator`
`files` / `envs` / `env` are followed, directories recursively. Without one at
`spec.path`, Flux generates it (fluxcd/pkg/kustomize generator: every `.yaml`/`.yml`
below the path, and a sub-directory holding a kustomization file as one resource, not
descended into). Remote resources (URLs, `github.com/...`) are listed, never fetched.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

from sopskit.flux.loader import KUSTOMIZATION_FILES, YAML_SUFFIXES, Loader
from sopskit.flux.objects import Doc, listed


@dataclass(frozen=True)
class Ref:
    """A reference written in a kustomization file (or a Flux Kustomization)."""

    value: str
    file: str
    line: int
    field: str  # resources, components, secretGenerator.files, ...


@dataclass(frozen=True)
class Patch:
    """A patch in force: the documents it applies and the objects it targets."""

    docs: tuple[Any, ...]  # strategic-merge mappings, or one JSON6902 list of operations
    target: dict[str, str] | None
    file: str


@dataclass
class Build:
    manifests: list[str] = field(default_factory=list)  # files whose objects are applied
    namespace: dict[str, str] = field(default_factory=dict)  # file -> namespace override
    patches: dict[str, tuple[Patch, ...]] = field(default_factory=dict)  # file -> in force
    secret_sources: list[Ref] = field(default_factory=list)  # decrypted by Flux
    configmap_sources: list[Ref] = field(default_factory=list)  # applied as they are
    remote: list[Ref] = field(default_factory=list)
    missing: list[tuple[Ref, str]] = field(default_factory=list)  # (reference, why)
    patch_files: set[str] = field(default_factory=set)
    # (kustomization file, namespace) already followed into this build: a directory that
    # several resources reach (a diamond) is built once, not once per path to it (a stack
    # of diamonds was 2^depth walks); a second walk adds nothing, as `_add` keeps the
    # first patches of a file
    followed: set[tuple[str, str]] = field(default_factory=set)


def is_remote(ref: str) -> bool:
    return ("://" in ref or ref.startswith(("github.com/", "gitlab.com/", "bitbucket.org/",
                                            "git@", "ssh:")) or "?ref=" in ref
            or ".git//" in ref)


def join(directory: str, ref: str) -> str | None:
    """`ref` relative to `directory` as a repository path; None when it leaves the
    repository (kustomize's load restrictor refuses it too)."""
    path = posixpath.normpath(posixpath.join(directory or ".", ref))
    if path == ".":
        return ""
    if path.startswith("../") or path == ".." or path.startswith("/"):
        return None
    return path


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


class Builder:
    """Builds directories of one tree (whole builds are memoised by flux.discover)."""

    def __init__(self, loader: Loader) -> None:
        self.loader = loader

    def flux_build(self, path: str, components: list[str], where: Ref) -> Build:
        """What a Flux Kustomization with `spec.path` = `path` applies."""
        build = Build()
        if not self.loader.tree.is_dir(path):
            build.missing.append((where, "no such directory"))
            return build
        kfile = self.loader.kustomization_file(path)
        if kfile is not None:
            self._kustomization(kfile, build, "", (), set())
        else:
            self._generated(path, build, (), set())
        # spec.components join the (generated) kustomization: their patches apply to all
        extra: tuple[Patch, ...] = ()
        subs = []
        for comp in components:
            sub = Build()
            extra += self._component(Ref(comp, where.file, where.line, "spec.components"),
                                     path, sub, "", set())
            subs.append(sub)
        for rel in build.manifests:
            build.patches[rel] += extra
        for sub in subs:
            self._merge(build, sub, extra)
        return build

    def _generated(self, top: str, build: Build, patches: tuple[Patch, ...],
                   seen: set[str]) -> None:
        files, dirs = self.loader.tree.children(top)
        for rel in files:
            if rel.endswith(YAML_SUFFIXES) and self._is_manifest(rel):
                self._add(build, rel, "", patches)
        for sub in dirs:
            kfile = self.loader.kustomization_file(sub)
            if kfile is not None:
                self._kustomization(kfile, build, "", patches, seen)
            else:
                self._generated(sub, build, patches, seen)

    def _is_manifest(self, rel: str) -> bool:
        # Flux's generator decodes each file as Kubernetes objects; a YAML file without
        # `kind:` (a Helm values file, `.sops.yaml`) is no object
        return self.loader.has(rel, b"kind:", b'"kind"') and any(
            isinstance(d.data, dict) and d.kind for d in self.loader.docs(rel))

    @staticmethod
    def _add(build: Build, rel: str, namespace: str, patches: tuple[Patch, ...]) -> None:
        if rel not in build.patches:
            build.manifests.append(rel)
            build.patches[rel] = patches
        if namespace:
            build.namespace[rel] = namespace

    def _kustomization(self, kfile: str, build: Build, namespace: str,
                       patches: tuple[Patch, ...], seen: set[str]) -> tuple[Patch, ...]:
        """Follow one kustomization file into `build`; the patches it defines."""
        if kfile in seen or (kfile, namespace) in build.followed:
            return ()
        seen = seen | {kfile}
        build.followed.add((kfile, namespace))
        doc = self.loader.kustomization(kfile)
        if doc is None:
            return ()
        data: dict[str, Any] = doc.data
        directory = posixpath.dirname(kfile)
        # the outer kustomization's namespace wins: its transformer runs last
        namespace = namespace or (data.get("namespace") if isinstance(
            data.get("namespace"), str) else "") or ""
        here = self._patches(doc, directory, build)
        subs = []
        for comp in _strings(data.get("components")):
            # a component's patches apply to the objects of the kustomization using it
            sub = Build()
            here += self._component(Ref(comp, kfile, doc.line, "components"), directory,
                                    sub, namespace, seen)
            subs.append(sub)
        in_force = patches + here
        for fld in ("resources", "bases"):
            for value in _strings(data.get(fld)):
                self._resource(Ref(value, kfile, doc.line, fld), directory, build, namespace,
                               in_force, seen)
        for sub in subs:
            self._merge(build, sub, in_force)
        self._generators(doc, directory, build)
        return here

    def _component(self, ref: Ref, directory: str, build: Build, namespace: str,
                   seen: set[str]) -> tuple[Patch, ...]:
        """Build a component into `build`; its own patches (for the including one)."""
        rel = join(directory, ref.value)
        if is_remote(ref.value):
            build.remote.append(ref)
        elif rel is None:
            build.missing.append((ref, "outside the repository"))
        elif not self.loader.tree.is_dir(rel):
            build.missing.append((ref, "no such directory"))
        else:
            kfile = self.loader.kustomization_file(rel)
            if kfile is None:
                build.missing.append((ref, "directory without a kustomization file"))
            else:
                return self._kustomization(kfile, build, namespace, (), seen)
        return ()

    def _merge(self, build: Build, sub: Build, patches: tuple[Patch, ...]) -> None:
        for rel in sub.manifests:
            self._add(build, rel, sub.namespace.get(rel, ""), patches + sub.patches[rel])
        build.secret_sources += sub.secret_sources
        build.configmap_sources += sub.configmap_sources
        build.remote += sub.remote
        build.missing += sub.missing
        build.patch_files |= sub.patch_files

    def _resource(self, ref: Ref, directory: str, build: Build, namespace: str,  # noqa: PLR0917
                  patches: tuple[Patch, ...], seen: set[str]) -> None:
        if is_remote(ref.value):
            build.remote.append(ref)
            return
        rel = join(directory, ref.value)
        if rel is None:
            build.missing.append((ref, "outside the repository"))
        elif self.loader.tree.is_file(rel):
            self._add(build, rel, namespace, patches)
        elif self.loader.tree.is_dir(rel):
            kfile = self.loader.kustomization_file(rel)
            if kfile is None:
                build.missing.append((ref, "directory without a kustomization file ("
                                      f"{', '.join(KUSTOMIZATION_FILES)})"))
            else:
                self._kustomization(kfile, build, namespace, patches, seen)
        else:
            build.missing.append((ref, "no such file or directory"))

    def _patches(self, doc: Doc, directory: str, build: Build) -> tuple[Patch, ...]:
        data = doc.data
        out: list[Patch] = []
        entries: list[tuple[Any, Any, Any]] = []  # (inline text, path, target)
        for item in listed(data.get("patches")):
            if isinstance(item, dict):
                entries.append((item.get("patch"), item.get("path"), item.get("target")))
        for item in listed(data.get("patchesStrategicMerge")):
            if isinstance(item, str):
                inline = "\n" in item or ":" in item
                entries.append((item if inline else None, None if inline else item, None))
        for item in listed(data.get("patchesJson6902")):
            if isinstance(item, dict):
                entries.append((item.get("patch"), item.get("path"), item.get("target")))
        for inline, path, raw_target in entries:
            target = raw_target if isinstance(raw_target, dict) else None
            if isinstance(path, str):
                rel = join(directory, path)
                ref = Ref(path, doc.file, doc.line, "patches")
                if rel is None or not self.loader.tree.is_file(rel):
                    build.missing.append((ref, "no such patch file"))
                    continue
                build.patch_files.add(rel)
                docs = tuple(d.data for d in self.loader.docs(rel))
                out.append(Patch(docs, target, rel))
            elif isinstance(inline, str):
                out.append(Patch(parse_inline(inline, doc.file), target, doc.file))
        return tuple(out)

    def _generators(self, doc: Doc, directory: str, build: Build) -> None:
        for fld, sink in (("secretGenerator", build.secret_sources),
                          ("configMapGenerator", build.configmap_sources)):
            for gen in listed(doc.data.get(fld)):
                if not isinstance(gen, dict):
                    continue
                for sub in ("files", "envs", "env"):
                    for value in _strings(gen.get(sub)):
                        source = value.split("=", 1)[1] if "=" in value else value
                        if is_remote(source):  # kustomize fetches file URLs itself
                            build.remote.append(Ref(source, doc.file, doc.line, f"{fld}.{sub}"))
                            continue
                        rel = join(directory, source)
                        ref = Ref(rel or source, doc.file, doc.line, f"{fld}.{sub}")
                        if rel is None or not self.loader.tree.is_file(rel):
                            build.missing.append((Ref(source, doc.file, doc.line,
                                                      f"{fld}.{sub}"), "no such file"))
                        else:
                            sink.append(ref)


def parse_inline(text: str, where: str) -> tuple[Any, ...]:
    """An inline patch as data ({} when it is not YAML: kustomize would fail, the
    delivery check only needs what it can read)."""
    from sopskit.errors import InputError
    from sopskit.flux.objects import parse_docs

    try:
        return tuple(d.data for d in parse_docs(text, path=where))
    except InputError:
        return ()
