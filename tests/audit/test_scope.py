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


def test_outside_git_a_fifo_is_not_read(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    write(plain, "x.env", f"T={fakes.github()}\n")
    os.mkfifo(plain / "pipe.env")  # opening it for reading would block forever
    res = run_cli("--repo", plain, "audit", "--format", "json", timeout=60)
    assert res.code == 1 and _paths(json.loads(res.stdout)) == {"x.env"}


def test_bad_scope_input_is_a_usage_error(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    write(repo, "a.env", "X=1\n")
    commit(repo)
    for args, says in ((("--since", "nope"), "--since 'nope': no such commit"),
                       (("--since", "HEAD..HEAD"), "no such commit"),
                       (("missing/",), "missing: no such file or directory"),
                       (("--since", "HEAD", "gone.env"), "gone.env: no such file")):
        res = run_cli("--repo", repo, "audit", *args, cwd=repo)
        assert res.code == 2 and says in res.stderr, (args, res.stderr)
        assert "Traceback" not in res.stderr and res.stdout == ""
    plain = tmp_path / "plain"
    write(plain, "a.env", "X=1\n")
    for option in (("--staged",), ("--since", "HEAD")):
        res = run_cli("--repo", plain, "audit", *option)
        assert res.code == 2 and f"{option[0]} needs a git repository" in res.stderr


def test_a_since_value_is_never_read_as_a_git_option(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    write(repo, "a.env", "X=1\n")
    commit(repo)
    planted = tmp_path / "written-by-git"
    res = run_cli("--repo", repo, "audit", "--since", f"--output={planted}")
    assert res.code == 2 and "no such commit" in res.stderr
    assert not planted.exists()


def test_a_nul_byte_does_not_hide_a_secret(tmp_path: Path) -> None:
    """A NUL typed into a manifest made it "binary" and unread; text with a few NULs is
    read (NULs as spaces, same lines), while real binary data is still skipped."""
    repo = new_repo(tmp_path / "r")
    token = fakes.github()
    write(repo, "app/secret.yaml", b"kind: Secret\x00\nstringData:\n  token: " +
          token.encode() + b"\n")
    write(repo, "app/.env", b"\x00\x00API_TOKEN=" + fakes.github().encode() + b"\n")
    write(repo, "img.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) +
          f"T={fakes.github()}".encode())
    write(repo, "many-nuls.dat", b"\x00" * 20 + f"T={fakes.github()}\n".encode())
    write(repo, "latin1.txt", b"\x00caf\xe9 T=" + fakes.github().encode() + b"\n")
    commit(repo)
    doc = _audit(repo)
    found = {(f["path"], f["rule"], f["line"]) for f in doc["findings"]}
    assert found == {("app/secret.yaml", "k8s-secret-plaintext", 3),
                     ("app/.env", "github-token", 1)}
    assert doc["summary"]["files_skipped"] == 3
    assert token not in json.dumps(doc)
