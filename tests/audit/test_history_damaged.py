"""History on a clone that lacks some blobs (pruned or damaged, as several real repositories
are): rename detection cannot read them, and the audit reads history without renames rather
than failing (issue 10: no crash on real repositories)."""

from __future__ import annotations

from pathlib import Path

from sopskit.gitio import log_changes
from tests.audit.repos import commit, new_repo, write
from tests.helpers import git


def test_log_without_a_blob_rename_detection_needs(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    lines = "".join(f"line {n}\n" for n in range(40))
    write(repo, "a.txt", lines)
    first = commit(repo, "add")
    git(repo, "mv", "a.txt", "b.txt")
    write(repo, "b.txt", lines + "one more\n")  # an inexact rename: git compares contents
    second = commit(repo, "rename and edit")
    assert [c.status for c in log_changes(repo)[0].changes] == ["R"]
    blob = git(repo, "rev-parse", f"{first}:a.txt").strip()
    (repo / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    history = log_changes(repo)
    assert [c.sha for c in history] == [second, first]
    assert sorted((c.status, c.path) for c in history[0].changes) == [
        ("A", "b.txt"), ("D", "a.txt")]
