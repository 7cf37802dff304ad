"""The files Flux would see: the working tree, or one git revision read from the object
store (no checkout), behind one small interface the kustomize builder reads through."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from sopskit import gitio
from sopskit.errors import InputError

MAX_FILE_SIZE = 4 * 1024 * 1024  # a manifest larger than this is not read (not a secret)
_SKIP_DIRS = frozenset({".git"})


@dataclass
class Tree:
    """Repository-relative POSIX paths of every regular file, and how to read them."""

    label: str  # "working tree" or "<rev> (<commit>)"
    files: frozenset[str]
    dirs: frozenset[str]
    _disk: Path | None = None
    _blobs: dict[str, bytes] = field(default_factory=dict)
    _repo: Path | None = None
    _ids: dict[str, str] = field(default_factory=dict)  # not prefetched: path -> blob id

    def is_file(self, rel: str) -> bool:
        return rel in self.files

    def is_dir(self, rel: str) -> bool:
        return rel == "" or rel in self.dirs

    def read(self, rel: str) -> bytes | None:
        """The file's bytes; None when it is too large or unreadable."""
        if self._disk is None:
            if rel not in self._blobs and rel in self._ids and self._repo is not None:
                self._blobs.update(gitio.read_blobs(self._repo, [(rel, self._ids.pop(rel))]))
            return self._blobs.get(rel)
        try:
            path = self._disk / rel
            if path.stat().st_size > MAX_FILE_SIZE:
                return None
            return path.read_bytes()
        except OSError:
            return None

    def walk(self, top: str) -> list[str]:
        """Every file under directory `top` (recursive), sorted."""
        prefix = f"{top}/" if top else ""
        return sorted(f for f in self.files if f.startswith(prefix))

    def children(self, top: str) -> tuple[list[str], list[str]]:
        """(files, directories) directly in `top`, sorted."""
        prefix = f"{top}/" if top else ""
        files = sorted(f for f in self.files if f.startswith(prefix) and "/" not in f[len(prefix):])
        dirs = sorted(d for d in self.dirs if d.startswith(prefix) and "/" not in d[len(prefix):])
        return files, dirs


def _parents(files: set[str]) -> frozenset[str]:
    dirs: set[str] = set()
    for f in files:
        for parent in PurePosixPath(f).parents:
            text = parent.as_posix()
            if text == ".":
                break
            dirs.add(text)
    return frozenset(dirs)


def working_tree(repo: Path) -> Tree:
    """Every regular file under `repo` (symlinks to files inside it included), `.git` left
    out."""
    files: set[str] = set()
    root = repo.resolve()
    for current, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        rel = Path(current).relative_to(root).as_posix()
        base = "" if rel == "." else f"{rel}/"
        for name in filenames:
            path = Path(current, name)
            if path.is_file() and (not path.is_symlink() or _inside(path, root)):
                files.add(base + name)
    return Tree("working tree", frozenset(files), _parents(files), _disk=root)


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except ValueError:
        return False
    return True


_READ_SUFFIXES = (".yaml", ".yml", ".json", ".env", ".ini", ".txt", ".asc", ".agekey")


def at_revision(repo: Path, rev: str) -> Tree:
    """The files of commit `rev` from git objects (`ls-tree`, one `cat-file --batch`):
    manifests and usual generator sources are read at once, any other file when asked."""
    commit = gitio.git(repo, "rev-parse", "--verify", "--end-of-options",
                       f"{rev}^{{commit}}").decode().strip()
    listing = gitio.git(repo, "ls-tree", "-r", "-l", "-z", commit)
    files: set[str] = set()
    wanted: list[tuple[str, str]] = []
    later: dict[str, str] = {}
    for record in listing.split(b"\0"):
        meta, _, name = record.partition(b"\t")
        fields = meta.split()
        if len(fields) != 4 or fields[1] != b"blob" or fields[0] == b"120000":
            continue
        rel = name.decode("utf-8", "surrogateescape")
        files.add(rel)
        size = int(fields[3]) if fields[3].isdigit() else 0
        if size > MAX_FILE_SIZE:
            continue
        if rel.endswith(_READ_SUFFIXES):
            wanted.append((rel, fields[2].decode()))
        else:
            later[rel] = fields[2].decode()
    blobs = gitio.read_blobs(repo, wanted)
    return Tree(f"{rev} ({commit[:12]})", frozenset(files), _parents(files), _blobs=blobs,
                _repo=repo, _ids=later)


def lazy_read(tree: Tree, rel: str) -> bytes:
    """`tree.read` for a file that must be there: InputError when it cannot be read."""
    data = tree.read(rel)
    if data is None:
        raise InputError("cannot read (too large or unreadable)", path=rel)
    return data
