"""The history cache under .git/: the same commits as a full `git log`, extended with only
the new commits, rebuilt when history was rewritten or the cache is damaged."""

from __future__ import annotations

from pathlib import Path

from sopskit.gitio import log_changes
from sopskit.history.logcache import CACHE_NAME, head_history
from tests.audit.repos import commit, new_repo, write
from tests.helpers import git


def _repo(tmp_path: Path) -> Path:
    repo = new_repo(tmp_path / "r")
    write(repo, "a.txt", "one\n" * 40)
    commit(repo, "add a")
    git(repo, "mv", "a.txt", "b.txt")
    write(repo, "odd\tname\n.txt", "x\n")
    commit(repo, "mv a b, add an odd name")
    return repo


def test_cache_gives_what_git_log_gives(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    first = head_history(repo)
    assert first == log_changes(repo)
    cache = repo / ".git" / CACHE_NAME
    assert cache.is_file()
    assert head_history(repo) == first  # read from the cache alone
    write(repo, "b.txt", "two\n" * 40)
    commit(repo, "edit b")
    grown = head_history(repo)
    assert grown == log_changes(repo) and grown[1:] == first
    assert sorted(c.status for c in grown[1].changes) == ["A", "R"]


def test_rewritten_history_and_a_damaged_cache_read_everything_again(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    head_history(repo)
    git(repo, "commit", "-q", "--amend", "-m", "rewritten")
    assert head_history(repo) == log_changes(repo)
    (repo / ".git" / CACHE_NAME).write_bytes(b"not a cache")
    assert head_history(repo) == log_changes(repo)


def test_a_cache_made_in_a_shallow_clone_is_not_used_after_unshallow(tmp_path: Path) -> None:
    origin = _repo(tmp_path)
    for n in range(3):
        write(origin, "b.txt", f"{n}\n" * 40)
        commit(origin, f"edit {n}")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin}", str(clone))
    assert len(head_history(clone)) == 1  # the cache now holds the cut history
    git(clone, "fetch", "-q", "--unshallow")  # HEAD is the same commit
    assert head_history(clone) == log_changes(clone)
    assert len(head_history(clone)) == 5


def test_a_cache_with_a_garbled_body_is_read_again_not_a_crash(tmp_path: Path) -> None:
    import zlib

    repo = _repo(tmp_path)
    head = git(repo, "rev-parse", "HEAD").strip()
    cache = repo / ".git" / CACHE_NAME
    head_history(repo)
    cache.write_bytes(zlib.compress(f"sopskit-history-v1 {head}\n\x01{head} notatime".encode()))
    assert head_history(repo) == log_changes(repo)
    cache.write_bytes(zlib.compress(f"sopskit-history-v1 {head}\n".encode()))  # no commits
    assert head_history(repo) == log_changes(repo)


def test_a_hit_is_read_from_the_cache_and_growth_reads_only_the_new_commits(
        tmp_path: Path) -> None:
    """Proof the cache is used (equal answers alone pass with no cache at all): a marked copy
    of it (every commit time shifted) comes back as is on a hit, and after a new commit the
    marked commits are kept and only the new one is read from git."""
    import zlib
    from dataclasses import replace

    from sopskit.history.logcache import render

    repo = _repo(tmp_path)
    first = head_history(repo)
    cache = repo / ".git" / CACHE_NAME
    header = zlib.decompress(cache.read_bytes()).partition(b"\n")[0]
    marked = [replace(c, time=c.time - 1000) for c in first]
    assert marked != first
    cache.write_bytes(zlib.compress(header + b"\n" + render(marked).encode()))
    assert head_history(repo) == marked
    write(repo, "b.txt", "two\n" * 40)
    commit(repo, "edit b")
    grown = head_history(repo)
    assert grown[1:] == marked and grown[0] == log_changes(repo)[0]
