"""The history of HEAD (`gitio.log_changes`), cached under `.git/` and read incrementally.

Reading the whole history costs one `git log --raw -M` per run (about a second of git on a
15,000-commit repository). The cache keeps the commits read last time with the commit HEAD
was then; when that commit is still an ancestor of HEAD only the new commits are read
(`git log OLD..HEAD`) and put in front. Anything else (no cache, a rewritten branch, a
damaged file) reads everything again: the cache can make a run faster, never different.

The file (`sopskit/history-v1.log` in the git directory, `git rev-parse --git-path`) holds
the commits in git's own `log -z --raw` shape, so the one parser reads both. A cache that
cannot be written (read-only clone) is simply not written. The header names HEAD and the
shallow boundary: `git fetch --unshallow` or `--deepen` leaves HEAD where it was but adds
history, so a cache made before it holds a cut history and is read again.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from pathlib import Path

from sopskit.errors import InputError
from sopskit.gitio import Commit, git, has_commits, log_changes_renamed, parse_log, shallow_roots

CACHE_NAME = "sopskit/history-v1.log"
_MAGIC = b"sopskit-history-v1 "


def head_history(repo: Path) -> list[Commit]:
    """Every commit reachable from HEAD, newest first, with renames (as `log_changes`)."""
    if not has_commits(repo):
        return []
    head = git(repo, "rev-parse", "--verify", "HEAD").decode().strip()
    state = f"{head} {_shallow_state(repo)}"
    path = _cache_path(repo)
    old_state, cached = _read(path)
    if old_state == state:
        return cached
    old_head, _, old_shallow = old_state.partition(" ")
    if old_head and old_shallow == _shallow_state(repo) and _is_ancestor(repo, old_head, head):
        new, renamed = log_changes_renamed(repo, exclude=old_head)
        commits = new + cached
    else:
        commits, renamed = log_changes_renamed(repo)
    if renamed:  # read without renames (blobs missing): not kept, so a later run redoes it
        _write(path, state, commits)
    return commits


def _shallow_state(repo: Path) -> str:
    """A short digest of the shallow clone's boundary ("full" for a full clone)."""
    roots = shallow_roots(repo)
    if not roots:
        return "full"
    return hashlib.sha256(" ".join(sorted(roots)).encode()).hexdigest()[:16]


def _cache_path(repo: Path) -> Path:
    raw = Path(git(repo, "rev-parse", "--git-path", CACHE_NAME).decode().strip())
    return raw if raw.is_absolute() else repo / raw


def _is_ancestor(repo: Path, old: str, head: str) -> bool:
    try:
        git(repo, "merge-base", "--is-ancestor", old, head)
    except InputError:
        return False
    return True


def _read(path: Path) -> tuple[str, list[Commit]]:
    try:
        data = zlib.decompress(path.read_bytes())
    except (OSError, zlib.error):
        return "", []
    header, _, body = data.partition(b"\n")
    if not header.startswith(_MAGIC):
        return "", []
    state = header[len(_MAGIC):].decode("ascii", "replace").strip()
    if len(state.partition(" ")[0]) not in (40, 64) or not body:
        return "", []
    try:
        commits = parse_log(body.decode("utf-8", "surrogateescape"))
    except ValueError:  # a damaged body: read the history again
        return "", []
    if not commits or state.partition(" ")[0] != commits[0].sha:
        return "", []
    return state, commits


def render(commits: list[Commit]) -> str:
    """`commits` in the shape `git log -z --raw --format=%x01%H %ct` prints (modes left
    out: the parser does not read them)."""
    parts: list[str] = []
    for c in commits:
        parts.append(f"\x01{c.sha} {c.time}")
        for ch in c.changes:
            score = ch.status + ("100" if ch.status in "RC" else "")
            parts.append(f":000000 000000 {ch.old_blob} {ch.new_blob} {score}")
            parts.append(ch.old_path)
            if ch.status in "RC":
                parts.append(ch.path)
    return "\0".join(parts)


def _write(path: Path, head: str, commits: list[Commit]) -> None:
    body = _MAGIC + head.encode() + b"\n" + render(commits).encode("utf-8", "surrogateescape")
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(exist_ok=True)
        temp.write_bytes(zlib.compress(body, 1))
        os.replace(temp, path)
    except OSError:
        temp.unlink(missing_ok=True)  # a read-only clone: no cache, same answers
