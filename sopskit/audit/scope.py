"""Which files the audit reads, and how: the working tree (tracked + untracked-not-ignored),
the index (`--staged`, what is about to be committed) or the files changed since a revision.

All git calls go through `sopskit.process`. Index content is read with one
`git cat-file --batch` call for every staged blob. Symlinks are never followed: a link's
target is scanned as its own file when it is in scope, and a link out of the repository is
not read at all (counted as skipped).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sopskit.errors import InputError, UsageError
from sopskit.gitio import git, read_blobs
from sopskit.repo import is_git_repo


@dataclass
class Scope:
    """Files to scan: on disk (`disk`: relpath -> absolute path) or from the index
    (`blobs`: relpath -> content). `skipped` counts files left out by scope rules."""

    disk: dict[str, Path] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    @property
    def count(self) -> int:
        return len(self.disk) + len(self.blobs)


def _require_git(repo: Path, option: str) -> None:
    if not is_git_repo(repo):
        raise UsageError(f"{option} needs a git repository; {repo} is not one")


def resolve_commit(repo: Path, rev: str) -> str:
    """The commit `rev` names; UsageError when it names none. `--end-of-options` keeps a
    value like `--output=FILE` from being read by git as an option."""
    _require_git(repo, "--since")
    try:
        out = git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options",
                  f"{rev}^{{commit}}")
    except InputError:
        raise UsageError(f"--since {rev!r}: no such commit in this repository") from None
    return out.decode("ascii", "replace").strip()


def _require_existing(paths: Iterable[Path]) -> None:
    """A PATH that names nothing would scan nothing and pass: refuse it."""
    for p in paths:
        if not (p.exists() or p.is_symlink()):
            raise UsageError(f"{p}: no such file or directory")


def _split0(out: bytes) -> list[str]:
    return [p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p]


def _pathspecs(repo: Path, paths: Iterable[Path]) -> list[str]:
    specs = []
    for p in paths:
        absolute = p if p.is_absolute() else Path.cwd() / p
        rel = os.path.relpath(absolute, repo)
        if rel.startswith(".."):
            raise UsageError(f"{p} is outside the repository {repo}")
        specs.append(":(top,literal)" + Path(rel).as_posix() if rel != "." else ":/")
    return specs


def working_tree(repo: Path, paths: Iterable[Path] = ()) -> Scope:
    """Tracked files plus untracked files git does not ignore (or a plain walk outside git)."""
    paths = tuple(paths)
    specs = _pathspecs(repo, paths)
    _require_existing(paths)
    if not is_git_repo(repo):
        return _walk(repo, [p if p.is_absolute() else Path.cwd() / p for p in paths] or [repo])
    out = git(repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard",
              "--deduplicate", "--", *specs)
    return _from_disk(repo, _split0(out))


def since(repo: Path, rev: str, paths: Iterable[Path] = ()) -> Scope:
    """Files added, copied, modified or renamed between `rev` and the working tree, plus
    untracked files git does not ignore."""
    paths = tuple(paths)
    specs = _pathspecs(repo, paths)
    _require_existing(paths)
    commit = resolve_commit(repo, rev)
    changed = git(repo, "diff", "-z", "--name-only", "--no-renames", "--diff-filter=ACMRT",
                  commit, "--", *specs)
    untracked = git(repo, "ls-files", "-z", "--others", "--exclude-standard", "--", *specs)
    return _from_disk(repo, sorted(set(_split0(changed)) | set(_split0(untracked))))


def _from_disk(repo: Path, relpaths: list[str]) -> Scope:
    scope = Scope()
    for rel in relpaths:
        path = repo / rel
        try:
            mode = os.lstat(path).st_mode  # one call: a link's own mode, else the file's
        except OSError:
            continue  # deleted in the working tree
        if stat.S_ISLNK(mode):
            scope.skip("symlink")
            continue
        if not stat.S_ISREG(mode):
            continue  # a submodule (a directory), a FIFO
        scope.disk[rel] = path
    return scope


def _walk(repo: Path, roots: list[Path]) -> Scope:
    scope = Scope()
    for root in roots:
        if root.is_file() and not root.is_symlink():
            scope.disk[Path(os.path.relpath(root, repo)).as_posix()] = root
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d != ".git"]
            for name in filenames:
                path = Path(dirpath) / name
                if path.is_symlink():
                    scope.skip("symlink")
                    continue
                if not path.is_file():
                    continue  # a FIFO or socket: reading it could block forever
                scope.disk[Path(os.path.relpath(path, repo)).as_posix()] = path
    return scope


def staged(repo: Path, paths: Iterable[Path] = ()) -> Scope:
    """The index content of files added, copied, modified or renamed in the index."""
    _require_git(repo, "--staged")
    specs = _pathspecs(repo, paths)
    raw = _split0(git(repo, "diff", "--cached", "-z", "--raw", "--no-renames",
                      "--diff-filter=ACMRT", "--", *specs))
    scope = Scope()
    wanted: list[tuple[str, str]] = []
    for meta, rel in zip(raw[0::2], raw[1::2], strict=True):
        fields = meta.split()
        if fields[1] == "120000":
            scope.skip("symlink")
        elif fields[1].startswith("100"):
            wanted.append((rel, fields[3]))
    scope.blobs = read_blobs(repo, wanted)
    return scope

