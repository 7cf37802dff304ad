"""Accepting findings: baseline create/update, keyed by path, rule and fingerprint (not
line), reasons and expiry dates."""

from __future__ import annotations

import json
from pathlib import Path

from tests.audit import fakes
from tests.audit.repos import commit, new_repo, write
from tests.helpers import run_cli


def _repo(tmp_path: Path) -> tuple[Path, str]:
    repo = new_repo(tmp_path / "r")
    pw = fakes.password()
    write(repo, "values.yaml", f"db:\n  password: {pw}\n")
    commit(repo)
    return repo, pw


def test_create_then_audit_is_clean(tmp_path: Path) -> None:
    repo, pw = _repo(tmp_path)
    res = run_cli("--repo", repo, "audit", "baseline", "create")
    assert res.code == 0, res.stderr
    data = json.loads((repo / ".sopskit-baseline.json").read_text())
    assert data["version"] == 1
    assert [(e["path"], e["rule"]) for e in data["entries"]] == [("values.yaml",
                                                                  "generic-secret")]
    assert pw not in (repo / ".sopskit-baseline.json").read_text()
    audit = run_cli("--repo", repo, "audit")
    assert audit.code == 0 and "1 accepted by the baseline" in audit.stdout
    again = run_cli("--repo", repo, "audit", "baseline", "create")
    assert again.code == 2 and "baseline update" in again.stderr


def test_moved_lines_stay_accepted_new_secret_on_the_line_is_reported(tmp_path: Path) -> None:
    repo, pw = _repo(tmp_path)
    assert run_cli("--repo", repo, "audit", "baseline", "create").code == 0
    write(repo, "values.yaml", f"# moved\nother: 1\ndb:\n  password: {pw}\n")
    assert run_cli("--repo", repo, "audit").code == 0
    write(repo, "values.yaml", f"db:\n  password: {fakes.password()}\n")
    res = run_cli("--repo", repo, "audit", "--format", "json")
    assert res.code == 1
    assert [f["line"] for f in json.loads(res.stdout)["findings"]] == [2]


def test_expired_entry_stops_suppressing(tmp_path: Path) -> None:
    repo, _ = _repo(tmp_path)
    out = tmp_path / "accepted.json"
    assert run_cli("--repo", repo, "audit", "baseline", "create", "-o", out).code == 0
    data = json.loads(out.read_text())
    data["entries"][0].update(reason="test fixture", expires="2020-01-01")
    out.write_text(json.dumps(data))
    assert run_cli("--repo", repo, "audit", "--baseline", out).code == 1
    data["entries"][0]["expires"] = "2999-01-01"
    out.write_text(json.dumps(data))
    assert run_cli("--repo", repo, "audit", "--baseline", out).code == 0


def test_update_keeps_reasons_and_drops_fixed_entries(tmp_path: Path) -> None:
    repo, _ = _repo(tmp_path)
    write(repo, "b.env", f"T={fakes.github()}\n")
    assert run_cli("--repo", repo, "audit", "baseline", "create").code == 0
    path = repo / ".sopskit-baseline.json"
    data = json.loads(path.read_text())
    for e in data["entries"]:
        e["reason"] = f"accepted {e['rule']}"
    path.write_text(json.dumps(data))
    (repo / "b.env").unlink()
    write(repo, "c.env", f"T={fakes.github()}\n")
    assert run_cli("--repo", repo, "audit", "baseline", "update").code == 0
    entries = json.loads(path.read_text())["entries"]
    assert [(e["path"], e["reason"]) for e in entries] == [
        ("c.env", None), ("values.yaml", "accepted generic-secret")]


def test_baseline_and_report_files_are_replaced_whole(tmp_path: Path) -> None:
    """Written to a temp file and renamed (a new inode), never truncated in place; a
    directory that does not exist is one line naming the file (exit 3)."""
    repo, _ = _repo(tmp_path)
    assert run_cli("--repo", repo, "audit", "baseline", "create").code == 0
    target = repo / ".sopskit-baseline.json"
    before = target.stat().st_ino
    assert run_cli("--repo", repo, "audit", "baseline", "update").code == 0
    assert target.stat().st_ino != before and json.loads(target.read_text())["entries"]
    report = tmp_path / "report.json"
    report.write_text("old")
    old_inode = report.stat().st_ino
    res = run_cli("--repo", repo, "audit", "--format", "json", "-o", report)
    assert res.code == 0 and json.loads(report.read_text())["version"] == 1
    assert report.stat().st_ino != old_inode
    for args in (("audit", "baseline", "create", "-o", tmp_path / "no" / "b.json"),
                 ("audit", "-o", tmp_path / "no" / "r.json")):
        res = run_cli("--repo", repo, *args)
        assert res.code == 3 and f"{tmp_path / 'no'}" in res.stderr, res.stderr
        assert "internal error" not in res.stderr


def test_a_narrowed_update_keeps_the_entries_it_did_not_look_at(tmp_path: Path) -> None:
    repo, _ = _repo(tmp_path)
    write(repo, "b/x.env", f"T={fakes.github()}\n")
    commit(repo)
    assert run_cli("--repo", repo, "audit", "baseline", "create").code == 0
    path = repo / ".sopskit-baseline.json"
    data = json.loads(path.read_text())
    for e in data["entries"]:
        e["reason"] = f"kept {e['path']}"
    path.write_text(json.dumps(data))
    write(repo, "b/y.env", f"T={fakes.github()}\n")
    for args in (("--staged",), ("--since", "HEAD"), (str(repo / "b"),)):
        assert run_cli("--repo", repo, "audit", "baseline", "update", *args).code == 0
        entries = json.loads(path.read_text())["entries"]
        assert ("values.yaml", "kept values.yaml") in [(e["path"], e["reason"])
                                                        for e in entries], args
    assert {e["path"] for e in entries} == {"values.yaml", "b/x.env", "b/y.env"}
    (repo / "b/x.env").unlink()  # a narrowed scan of b/ drops what b/ no longer has
    assert run_cli("--repo", repo, "audit", "baseline", "update", str(repo / "b")).code == 0
    assert {e["path"] for e in json.loads(path.read_text())["entries"]} == {"values.yaml",
                                                                            "b/y.env"}
