"""The repository-path API: finding the repository root, keeping paths inside it, and the
repository-relative form of a path for messages and matching. Every module asks here
(engine/paths.py re-exports `target` and `display` for its readers)."""

from __future__ import annotations

from pathlib import Path

from sopskit.errors import UnsafePathError


def is_git_repo(repo: Path) -> bool:
    """Whether `repo` is the top of a git work tree (`.git` a directory, or a file for a
    linked worktree or submodule)."""
    return (repo / ".git").exists()


def find_repo_root(start: Path) -> Path:
    """The nearest ancestor of `start` holding `.git`, else `start` itself (resolved).

    Read from the filesystem rather than by running git: it is called on every command.
    """
    here = start.resolve()
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists():
            return candidate
    return here


def resolved(path: Path) -> Path:
    """`path.resolve()`, with a loop of symbolic links as UnsafePathError (pathlib raises a
    bare RuntimeError for it)."""
    try:
        return path.resolve()
    except RuntimeError:
        raise UnsafePathError("a loop of symbolic links", path=path) from None


def inside(repo: Path, path: Path) -> Path:
    """`path` resolved (following symlinks); refuse it when it leaves `repo`."""
    resolved_path = resolved(path)
    root = repo.resolve()
    if resolved_path != root and root not in resolved_path.parents:
        raise UnsafePathError(
            "path resolves outside the repository (symlink or ..); refusing to touch it",
            path=path,
        )
    return resolved_path


def relative_posix(repo: Path, path: Path) -> str:
    """The repository-relative POSIX form of `path` (which must be inside `repo`)."""
    return inside(repo, path).relative_to(repo.resolve()).as_posix()


def is_inside(repo: Path, path: Path) -> bool:
    """Whether `path` (its directory resolved, the last component as named) lies in `repo`:
    true for a new file's name too."""
    root, where = repo.resolve(), resolved(path.absolute().parent) / path.name
    return root == where or root in where.parents


def target(repo: Path, path: Path) -> Path:
    """`path` made absolute and resolved; refused (UnsafePathError) when it lies under
    `repo` but a symlink (or `..`) takes it out."""
    absolute = path.absolute()
    roots = {repo.absolute(), repo.resolve()}
    if any(r == absolute or r in absolute.parents for r in roots):
        return inside(repo, absolute)
    return resolved(absolute)


def display(repo: Path, path: Path) -> str:
    """The repository-relative POSIX form of the absolute `path` for messages (as given
    when outside the repository)."""
    try:
        return path.relative_to(repo.resolve()).as_posix()
    except ValueError:
        return str(path)
