"""Data-key age from real git histories built with the real sops: `rotate` makes a new
data key, `set` (an edit) and `updatekeys`-like metadata changes do not."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sopskit.audit import history
from tests.audit import fakes
from tests.audit.repos import commit, new_repo, sops_encrypt, sops_run, write
from tests.helpers import AgeKey, run_cli

DOC = "kind: Secret\nstringData:\n  a: {a}\n  b: {b}\n"
REGEX = ("--encrypted-regex", "^(data|stringData)$")


def _ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _history(tmp_path: Path, age: AgeKey, second: str) -> tuple[Path, str]:
    """A file encrypted 800 days ago, then changed 10 days ago by `second`."""
    repo = new_repo(tmp_path / "r")
    path = sops_encrypt(repo, "s.sops.yaml", DOC.format(a=fakes.password(), b=fakes.password()),
                        age=[age.recipient], extra=REGEX)
    commit(repo, "add", date=_ago(800))
    if second == "rotate":
        path.write_bytes(sops_run(repo, "rotate", str(path), key=age.secret))
    elif second == "set":
        sops_run(repo, "set", str(path), '["stringData"]["a"]', json.dumps(fakes.password()),
                 key=age.secret)
    commit(repo, second, date=_ago(10))
    return repo, write(tmp_path, "keys.txt", age.secret + "\n").as_posix()


def _rotation(repo: Path, *args: str) -> list[dict]:
    res = run_cli("--repo", repo, "audit", "--format", "json", *args)
    return [f for f in json.loads(res.stdout)["findings"] if f["rule"] == "data-key-stale"]


def test_edit_keeps_the_old_data_key(tmp_path: Path, age: AgeKey) -> None:
    repo, _ = _history(tmp_path, age, "set")
    found = _rotation(repo)
    assert [f["path"] for f in found] == ["s.sops.yaml"]
    assert "800 days ago" in found[0]["message"] and "(inferred)" in found[0]["message"]
    # the command it names exists and rotates exactly that file
    assert found[0]["message"].endswith(
        "rotate it: sopskit rekey --apply --rotate-data-key always s.sops.yaml")
    help_text = run_cli("rekey", "--help").stdout
    assert "--rotate-data-key [auto|always|never]" in help_text and "--apply" in help_text
    assert _rotation(repo, "--max-data-key-age", "900") == []


def test_rotate_makes_a_new_data_key(tmp_path: Path, age: AgeKey) -> None:
    repo, _ = _history(tmp_path, age, "rotate")
    assert _rotation(repo) == []
    assert "10 days ago" in _rotation(repo, "--max-data-key-age", "5")[0]["message"]


def test_exact_with_an_identity(tmp_path: Path, age: AgeKey) -> None:
    repo, keys = _history(tmp_path, age, "set")
    found = _rotation(repo, "--identity", keys, "--no-keyring")
    assert len(found) == 1 and "800 days ago" in found[0]["message"]
    assert "(exact)" in found[0]["message"]
    rotated, keys2 = _history(tmp_path / "2", age, "rotate")
    assert "(exact)" in _rotation(rotated, "--identity", keys2, "--max-data-key-age", "5")[0][
        "message"]


def test_metadata_only_change_is_not_a_rotation(tmp_path: Path, age: AgeKey) -> None:
    repo, _ = _history(tmp_path, age, "set")
    path = repo / "s.sops.yaml"
    path.write_text(path.read_text().replace("lastmodified:", "lastmodified:", 1) + "\n")
    commit(repo, "touch", date=_ago(1))
    assert "800 days ago" in _rotation(repo)[0]["message"]


def test_uncommitted_files_have_no_age(tmp_path: Path, age: AgeKey) -> None:
    repo = new_repo(tmp_path / "r")
    sops_encrypt(repo, "s.sops.yaml", DOC.format(a="x1", b="y1"), age=[age.recipient],
                 extra=REGEX)
    assert _rotation(repo, "--max-data-key-age", "0") == []


def test_a_file_older_than_the_log_window_still_has_its_history(tmp_path: Path,
                                                                age: AgeKey) -> None:
    """Commits touching other sops files fill the first `git log` window; the old file
    must still get its change (else its data key has no age and is never stale)."""
    repo = new_repo(tmp_path / "r")
    sops_encrypt(repo, "old.sops.yaml", DOC.format(a="x1", b="y1"), age=[age.recipient],
                 extra=REGEX)
    first = commit(repo, "add old", date=_ago(800))
    busy = sops_encrypt(repo, "busy.sops.yaml", DOC.format(a="x2", b="y2"),
                        age=[age.recipient], extra=REGEX)
    for n in range(6):
        busy.write_text(busy.read_text() + "\n")
        commit(repo, f"busy {n}")
    got = history.changes(repo, ["busy.sops.yaml", "old.sops.yaml"], max_count=4)
    assert [c.commit for c in got["old.sops.yaml"]] == [first]
    assert len(got["busy.sops.yaml"]) == 4


def test_a_busy_file_is_aged_past_the_log_window(tmp_path: Path, age: AgeKey) -> None:
    """More than one window (200 commits) of changes that keep the data key: the age is
    still that of the commit that made the key, not of the oldest change read."""
    repo, _ = _history(tmp_path, age, "set")  # the key made 800 days ago, edited 10 ago
    path = repo / "s.sops.yaml"
    for n in range(205):
        path.write_text(path.read_text() + "\n")  # metadata untouched: same data key
        commit(repo, f"touch {n}", date=_ago(5))
    found = _rotation(repo)
    assert len(found) == 1 and "800 days ago" in found[0]["message"], found


def test_a_name_git_would_quote_still_has_its_history(tmp_path: Path, age: AgeKey) -> None:
    repo = new_repo(tmp_path / "r")
    for name in ('q"uote.sops.yaml', "tab\there.sops.yaml", "back\\slash.sops.yaml"):
        sops_encrypt(repo, name, DOC.format(a="x1", b="y1"), age=[age.recipient],
                     extra=REGEX)
    commit(repo, "add", date=_ago(800))
    found = sorted(f["path"] for f in _rotation(repo))
    assert found == sorted(['q"uote.sops.yaml', "tab\there.sops.yaml",
                            "back\\slash.sops.yaml"])
