"""Finding the repository root and keeping paths inside it."""

from __future__ import annotations

from pathlib import Path

from sopskit.errors import UnsafePathError


def find_repo_root(start: Path) -> Path:
    """The nearest ancestor of `start` holding `.git`, else `start` itself (resolved).

    Read from the filesystem rather than by running git: it is called on every command.
    """
    here = start.resolve()
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists():
            return candidate
    return here


def inside(repo: Path, path: Path) -> Path:
    """`path` resolved (following symlinks); refuse it when it leaves `repo`."""
    resolved = path.resolve()
    root = repo.resolve()
    if resolved != root and root not in resolved.parents:
        raise UnsafePathError(
            "path resolves outside the repository (symlink or ..); refusing to touch it",
            path=path,
        )
    return resolved


def relative_posix(repo: Path, path: Path) -> str:
    """The repository-relative POSIX form of `path` (which must be inside `repo`)."""
    return inside(repo, path).relative_to(repo.resolve()).as_posix()
