"""The two versions of every changed sops file between two git states.

`sopskit diff` compares, as `git diff` does: HEAD and the work tree (default), the index
(`--staged`: HEAD and the index, or REV_A and the index), REV_A and the work tree, or
REV_A and REV_B. Contents come from git's object store in one batch, the work tree's side
from disk; a file counts when either version is a sops file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sopskit import gitio
from sopskit.engine import paths as engine_paths
from sopskit.errors import UsageError
from sopskit.sopsfile.document import detect_format, looks_like_sops


@dataclass(frozen=True)
class Side:
    path: str
    data: bytes | None  # None: the file does not exist on this side


@dataclass(frozen=True)
class Pair:
    old: Side
    new: Side

    @property
    def status(self) -> str:
        if self.old.data is None:
            return "added"
        if self.new.data is None:
            return "deleted"
        return "renamed" if self.old.path != self.new.path else "modified"


def git_args(rev_a: str | None, rev_b: str | None, staged: bool) -> list[str]:
    """The `git diff` arguments selecting the two states."""
    for rev in (rev_a, rev_b):
        if rev is not None and (not rev or rev.startswith("-")):
            raise UsageError(f"{rev!r} is not a revision")
    if staged and rev_b is not None:
        raise UsageError("--staged compares with the index: give at most one revision")
    args = ["--cached"] if staged else []
    args.append(rev_a or "HEAD")
    if rev_b is not None:
        args.append(rev_b)
    return args


def changed_pairs(repo: Path, rev_a: str | None = None, rev_b: str | None = None, *,
                  staged: bool = False, paths: tuple[str, ...] = ()) -> list[Pair]:
    """Old and new versions of each changed sops file, in git's order."""
    if rev_a is None and not gitio.has_commits(repo):
        # no commit yet (a new repository's first pre-commit or review): HEAD is git's
        # empty tree, hashed here so that a SHA-256 repository gets its own
        empty = gitio.git(repo, "hash-object", "-t", "tree", "--stdin", input=b"")
        rev_a = empty.decode().strip()
    changes = gitio.diff_changes(repo, *git_args(rev_a, rev_b, staged), paths=paths)
    wanted = [(f"old:{c.old_path}", c.old_blob) for c in changes if c.old_blob != gitio.ZERO]
    wanted += [(f"new:{c.path}", c.new_blob) for c in changes
               if c.new_blob != gitio.ZERO and c.status != "D"]
    blobs = gitio.read_blobs(repo, wanted)
    work_tree = rev_b is None and not staged
    out = []
    for change in changes:
        old = None if change.status == "A" else blobs.get(f"old:{change.old_path}")
        new = None if change.status == "D" else blobs.get(f"new:{change.path}")
        if new is None and change.status != "D" and work_tree:
            new = _read(repo, change.path)
        pair = Pair(Side(change.old_path, old), Side(change.path, new))
        if any(s.data is not None and looks_like_sops(s.data, detect_format(s.path))
               for s in (pair.old, pair.new)):
            out.append(pair)
    return out


def _read(repo: Path, rel: str) -> bytes | None:
    path = repo / rel
    if not path.exists():
        return None
    return engine_paths.read_input(path, shown=rel)
