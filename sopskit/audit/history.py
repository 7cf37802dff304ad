"""The git history of sops files: for each path, its changes newest first (commit, time,
old blob, new blob), from one `git log --raw` call per batch of paths."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sopskit.errors import InputError
from sopskit.gitio import git

ZERO = "0" * 40
_BATCH = 400


@dataclass(frozen=True)
class Change:
    commit: str
    time: int  # committer time, seconds since the epoch
    old: str  # blob id before the commit (ZERO: the file was added)
    new: str


def changes(repo: Path, paths: list[str], *, max_count: int = 200) -> dict[str, list[Change]]:
    """path -> its changes, newest first (at most `max_count` commits per batch scanned).

    A path that no commit of a full window touched (others changed more recently) is looked
    up again with the other such paths: it has a history, only older, and leaving it out
    would hide the oldest data keys of all."""
    out: dict[str, list[Change]] = {p: [] for p in paths}
    if not has_commits(repo):
        return out
    todo = list(paths)
    while todo:
        again: list[str] = []
        for i in range(0, len(todo), _BATCH):
            batch = todo[i:i + _BATCH]
            if _log(repo, batch, max_count, out) >= max_count:
                again += [p for p in batch if not out[p]]
        if len(again) == len(todo):
            break  # cannot happen with a sane git; never loop forever
        todo = again
    return out


def older(repo: Path, path: str, *, skip: int, max_count: int = 200) -> list[Change]:
    """The changes of `path` after its newest `skip` ones (newest first): the rest of a
    history that a window cut short."""
    out: dict[str, list[Change]] = {path: []}
    _log(repo, [path], max_count, out, f"--skip={skip}")
    return out[path]


def _log(repo: Path, batch: list[str], max_count: int, out: dict[str, list[Change]],
         *extra: str) -> int:
    """Add the changes of `batch` to `out`; the number of commits read."""
    text = git(repo, "log", "-z", "--raw", "--no-abbrev",
               "--no-renames", f"--max-count={max_count}", *extra, "--format=%x01%H %ct",
               "--", *(":(top,literal)" + p for p in batch)).decode("utf-8",
                                                                    "surrogateescape")
    _parse(text, out)
    return text.count("\x01")


def has_commits(repo: Path) -> bool:
    try:
        git(repo, "rev-parse", "--verify", "--quiet", "HEAD")
    except InputError:
        return False
    return True


def _parse(text: str, out: dict[str, list[Change]]) -> None:
    """`log -z --raw`: NUL-separated `\\x01SHA TIME`, `:META`, `PATH` tokens (with -z a
    path is never quoted, whatever characters it holds)."""
    commit, when = "", 0
    tokens = iter(text.split("\0"))
    for raw in tokens:
        token = raw.lstrip("\n")
        if token.startswith("\x01"):
            sha, _, ct = token[1:].partition(" ")
            commit, when = sha, int(ct or 0)
        elif token.startswith(":"):
            fields, path = token.split(), next(tokens, "")
            if path in out and len(fields) >= 5:
                out[path].append(Change(commit, when, fields[2], fields[3]))
