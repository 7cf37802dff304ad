"""What the audit reads: tracked + untracked-not-ignored files, the index with --staged,
changes since a revision, and what it skips (binary, large, vendored, symlinks)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.audit import fakes
from tests.audit.repos import commit, new_repo, write
from tests.helpers import git, run_cli


def _audit(repo: Path, *args: str) -> dict:
    res = run_cli("--repo", repo, "audit", "--format", "json", *args)
    assert res.code in (0, 1), res.stderr
    return json.loads(res.stdout)


def _paths(doc: dict) -> set[str]:
    return {f["path"] for f in doc["findings"]}


def test_tracked_and_untracked_but_not_ignored(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    write(repo, ".gitignore", "ignored.env\n")
    write(repo, "tracked.env", f"A_TOKEN={fakes.github()}\n")
    commit(repo)
    write(repo, "untracked.env", f"B_TOKEN={fakes.github()}\n")
    write(repo, "ignored.env", f"C_TOKEN={fakes.github()}\n")
    assert _paths(_audit(repo)) == {"tracked.env", "untracked.env"}


def test_skipped_files_are_counted(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    write(repo, "vendor/lib/x.env", f"T={fakes.github()}\n")
    write(repo, "node_modules/p/y.env", f"T={fakes.github()}\n")
    write(repo, "blob.bin", b"\x00\x01" + f"T={fakes.github()}".encode())
    write(repo, "big.txt", f"T={fakes.github()}\n" + "x" * (3 * 1024 * 1024))
    outside = write(tmp_path, "outside.env", f"T={fakes.github()}\n")
    os.symlink(outside, repo / "link.env")
    commit(repo)
    doc = _audit(repo)
    assert doc["findings"] == []
    assert doc["summary"]["files_skipped"] == 5
    res = run_cli("--repo", repo, "audit")
    assert "5 skipped (1 binary, 1 size, 1 symlink, 2 vendored)" in res.stdout


def test_staged_scans_the_index_not_the_working_tree(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    write(repo, "a.env", "X=1\n")
    write(repo, "old.env", f"T={fakes.github()}\n")  # committed: not part of the change
    commit(repo)
    write(repo, "a.env", f"T={fakes.github()}\n")
    git(repo, "add", "a.env")
    write(repo, "a.env", "X=2\n")  # the secret is staged, then removed from the file
    write(repo, "b.env", f"T={fakes.github()}\n")  # untracked, not staged
    doc = _audit(repo, "--staged")
    assert _paths(doc) == {"a.env"} and doc["summary"]["files_scanned"] == 1
    git(repo, "add", "a.env")  # now the index holds the clean version
    assert _audit(repo, "--staged")["findings"] == []


def test_since_scans_changed_and_new_files(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    write(repo, "old.env", f"T={fakes.github()}\n")
    base = commit(repo)
    write(repo, "changed.env", f"T={fakes.github()}\n")
    commit(repo)
    write(repo, "new.env", f"T={fakes.github()}\n")
    assert _paths(_audit(repo, "--since", base)) == {"changed.env", "new.env"}


def test_paths_limit_the_scope(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    write(repo, "a/x.env", f"T={fakes.github()}\n")
    write(repo, "b/y.env", f"T={fakes.github()}\n")
    commit(repo)
    assert _paths(_audit(repo, str(repo / "a"))) == {"a/x.env"}


def test_outside_git_the_tree_is_walked(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    write(plain, "d/x.env", f"T={fakes.github()}\n")
    assert _paths(_audit(plain)) == {"d/x.env"}
