"""History on a clone that lacks some blobs (pruned or damaged, as several real repositories
are): rename detection cannot read them, and the audit reads history without renames rather
than failing (issue 10: no crash on real repositories)."""

from __future__ import annotations

import json
from pathlib import Path

from sopskit.gitio import log_changes
from tests.audit.repos import commit, new_repo, sops_encrypt, write
from tests.helpers import age_key, git, run_cli


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


def test_audit_of_sops_files_whose_old_blobs_are_gone(tmp_path: Path) -> None:
    """A sops file moved in one commit with its blob since lost (the xUnholy clone): the
    data-key age reads what it has and the audit finishes with its findings, never exit 3."""
    key = age_key()
    repo = new_repo(tmp_path / "r")
    sops_encrypt(repo, "a/secret.sops.yaml", "kind: Secret\nstringData:\n  pw: x1y2z3w4\n",
                 age=[key.recipient], extra=("--encrypted-regex", "^(data|stringData)$"))
    first = commit(repo, "add", date="2020-01-01T00:00:00")
    (repo / "b").mkdir()
    git(repo, "mv", "a/secret.sops.yaml", "b/secret.sops.yaml")
    with (repo / "b/secret.sops.yaml").open("a") as fh:  # unpaired: git sees D + A
        fh.write("".join(f"# padding {n}\n" for n in range(200)))
    commit(repo, "move")
    blob = git(repo, "rev-parse", f"{first}:a/secret.sops.yaml").strip()
    (repo / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    done = run_cli("--repo", repo, "audit", "--format", "json", "--max-data-key-age", "400")
    assert done.code in (0, 1), done.stderr
    assert "missing from the object store" not in done.stderr
    assert not [f for f in json.loads(done.stdout)["findings"] if f["rule"] == "data-key-stale"]
    # the key may be years old: never a silent "young", but a lower bound said in a note
    said = run_cli("--repo", repo, "audit", "--max-data-key-age", "400")
    assert "note: data-key age of 1 sops file(s) unknown" in said.stdout + said.stderr


def test_a_history_read_without_renames_is_not_cached(tmp_path: Path) -> None:
    """The HEAD history cache keeps only a complete reading: read without renames (a blob
    missing), it is read again next time, and renames come back once the blob does (the
    cache can make a run faster, never different)."""
    from sopskit.history.logcache import head_history

    repo = new_repo(tmp_path / "r")
    lines = "".join(f"line {n}\n" for n in range(40))
    write(repo, "a.txt", lines)
    first = commit(repo, "add")
    git(repo, "mv", "a.txt", "b.txt")
    write(repo, "b.txt", lines + "one more\n")
    commit(repo, "rename and edit")
    blob = git(repo, "rev-parse", f"{first}:a.txt").strip()
    obj = repo / ".git" / "objects" / blob[:2] / blob[2:]
    saved = obj.read_bytes()
    obj.chmod(0o644)
    obj.unlink()
    assert sorted(c.status for c in head_history(repo)[0].changes) == ["A", "D"]
    assert not (repo / ".git" / "sopskit" / "history-v1.log").exists()
    obj.write_bytes(saved)
    assert [c.status for c in head_history(repo)[0].changes] == ["R"]
    assert (repo / ".git" / "sopskit" / "history-v1.log").exists()
    assert [c.status for c in head_history(repo)[0].changes] == ["R"]  # from the cache
