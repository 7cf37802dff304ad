"""The git history of sops files: for each path, its changes newest first (commit, time,
old blob, new blob), from one `git log --raw` call per batch of paths."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sopskit.audit.scope import git
from sopskit.errors import InputError

ZERO = "0" * 40
_BATCH = 400


@dataclass(frozen=True)
class Change:
    commit: str
    time: int  # committer time, seconds since the epoch
    old: str  # blob id before the commit (ZERO: the file was added)
    new: str


def changes(repo: Path, paths: list[str], *, max_count: int = 200) -> dict[str, list[Change]]:
    """path -> its changes, newest first (at most `max_count` commits per batch scanned)."""
    out: dict[str, list[Change]] = {p: [] for p in paths}
    if not has_commits(repo):
        return out
    for i in range(0, len(paths), _BATCH):
        batch = paths[i:i + _BATCH]
        text = git(repo, "-c", "core.quotePath=false", "log", "--raw", "--no-abbrev",
                   "--no-renames", f"--max-count={max_count}", "--format=%x01%H %ct", "--",
                   *(":(top,literal)" + p for p in batch)).decode("utf-8", "surrogateescape")
        _parse(text, out)
    return out


def has_commits(repo: Path) -> bool:
    try:
        git(repo, "rev-parse", "--verify", "--quiet", "HEAD")
    except InputError:
        return False
    return True


def _parse(text: str, out: dict[str, list[Change]]) -> None:
    commit, when = "", 0
    for line in text.split("\n"):
        if line.startswith("\x01"):
            sha, _, ct = line[1:].partition(" ")
            commit, when = sha, int(ct or 0)
        elif line.startswith(":") and "\t" in line:
            meta, _, path = line.partition("\t")
            fields = meta.split()
            if path in out and len(fields) >= 5:
                out[path].append(Change(commit, when, fields[2], fields[3]))
