"""Data-key age from real git histories built with the real sops: `rotate` makes a new
data key; `set` (an edit, even of a file's only value), `updatekeys` and `git mv` do not."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyrage
import pytest

from sopskit.gitio import log_changes
from sopskit.history.datakey import ciphertexts, lineages
from tests.audit import fakes
from tests.audit.repos import commit, new_repo, sops_encrypt, sops_run, write
from tests.helpers import AgeKey, git, run_cli, run_sops

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
    everything = json.loads(res.stdout)["findings"]
    if "--fail-on" not in args:
        assert res.code == int(any(f["severity"] in ("critical", "high") for f in everything)), \
            (res.code, res.stderr)  # exit 1 exactly when a finding reaches --fail-on (default high)
    return [f for f in everything if f["rule"] == "data-key-stale"]


def test_edit_keeps_the_old_data_key(tmp_path: Path, age: AgeKey) -> None:
    repo, _ = _history(tmp_path, age, "set")
    found = _rotation(repo)
    assert [f["path"] for f in found] == ["s.sops.yaml"]
    assert "800 days ago" in found[0]["message"] and "(inferred: " in found[0]["message"]
    assert "the file was added here" in found[0]["message"]
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
    assert "(exact: " in found[0]["message"]
    rotated, keys2 = _history(tmp_path / "2", age, "rotate")
    message = _rotation(rotated, "--identity", keys2, "--max-data-key-age", "5")[0]["message"]
    assert "(exact: data keys compared)" in message
    head = git(rotated, "rev-parse", "HEAD").strip()
    assert f"in commit {head[:12]} " in message


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


def test_rotate_without_a_key_is_inferred_from_new_wrapped_keys(tmp_path: Path,
                                                                 age: AgeKey) -> None:
    repo, _ = _history(tmp_path, age, "rotate")
    message = _rotation(repo, "--max-data-key-age", "5")[0]["message"]
    assert "(inferred: no wrapped data key, value or MAC in common" in message


def test_setting_the_only_value_keeps_the_data_key(tmp_path: Path, age: AgeKey) -> None:
    """Every value ciphertext changes, yet the wrapped data key does not: same key."""
    repo = new_repo(tmp_path / "r")
    path = sops_encrypt(repo, "one.sops.yaml", f"token: {fakes.password()}\n",
                        age=[age.recipient])
    commit(repo, "add", date=_ago(800))
    before = ciphertexts(path.read_bytes())
    sops_run(repo, "set", str(path), '["token"]', json.dumps(fakes.password()), key=age.secret)
    commit(repo, "set", date=_ago(3))
    after = ciphertexts(path.read_bytes())
    assert len(before & after) == 1  # only the wrapped data key is common: values and MAC new
    assert "800 days ago" in _rotation(repo)[0]["message"]


def test_updatekeys_keeps_the_data_key(tmp_path: Path, age: AgeKey) -> None:
    """`sops updatekeys` re-wraps the same data key for every recipient (every `enc` new)."""
    repo, _ = _history(tmp_path, age, "set")
    other = pyrage.x25519.Identity.generate().to_public()
    config = write(tmp_path, "two.yaml", "creation_rules:\n  - path_regex: ''\n"
                   f"    age: {age.recipient},{other}\n")
    done = run_sops("--config", str(config), "updatekeys", "-y", "s.sops.yaml",
                    env={"SOPS_AGE_KEY": age.secret}, cwd=repo)
    assert done.returncode == 0, done.stderr.decode()
    assert str(other) in (repo / "s.sops.yaml").read_text()
    commit(repo, "updatekeys", date=_ago(2))
    assert "800 days ago" in _rotation(repo)[0]["message"]


def test_git_mv_keeps_the_age(tmp_path: Path, age: AgeKey) -> None:
    """Renamed twice (once with an edit in the same commit): still the age of the add."""
    repo, _ = _history(tmp_path, age, "set")
    git(repo, "mv", "s.sops.yaml", "moved.sops.yaml")
    commit(repo, "mv", date=_ago(9))
    (repo / "apps").mkdir()
    git(repo, "mv", "moved.sops.yaml", "apps/final.sops.yaml")
    sops_run(repo, "set", "apps/final.sops.yaml", '["stringData"]["b"]',
             json.dumps(fakes.password()), key=age.secret)
    commit(repo, "mv and edit", date=_ago(4))
    found = _rotation(repo)
    assert [f["path"] for f in found] == ["apps/final.sops.yaml"]
    assert "800 days ago" in found[0]["message"]
    assert "called s.sops.yaml then" in found[0]["message"]


def test_rekey_max_data_key_age_follows_renames(tmp_path: Path, age: AgeKey) -> None:
    repo, _ = _history(tmp_path, age, "set")
    write(repo, ".sops.yaml", "creation_rules:\n  - path_regex: \\.sops\\.yaml$\n"
          f"    encrypted_regex: ^(data|stringData)$\n    age: {age.recipient}\n")
    commit(repo, "config", date=_ago(20))
    git(repo, "mv", "s.sops.yaml", "renamed.sops.yaml")
    commit(repo, "mv", date=_ago(9))
    plan = json.loads(run_cli("--repo", repo, "rekey", "--format", "json", "--no-keyring",
                              "--max-data-key-age", "365").stdout)
    text = json.dumps(plan)
    assert "renamed.sops.yaml" in text and "800 days old" in text, text
    plan = json.loads(run_cli("--repo", repo, "rekey", "--format", "json", "--no-keyring",
                              "--max-data-key-age", "900").stdout)
    assert "days old" not in json.dumps(plan)


def test_lineage_follows_renames_back_to_the_add(tmp_path: Path, age: AgeKey) -> None:
    repo = new_repo(tmp_path / "r")
    write(repo, "a.txt", "x\n" * 50)
    first = commit(repo, "add")
    git(repo, "mv", "a.txt", "b.txt")
    write(repo, "c.txt", "added beside the rename\n")
    second = commit(repo, "mv a.txt b.txt, add c.txt")
    chains = lineages(log_changes(repo), ["b.txt", "c.txt"])
    assert [(s.commit, s.status, s.path) for s in chains["b.txt"]] == [
        (second, "R", "b.txt"), (first, "A", "a.txt")]
    assert [(s.commit, s.status) for s in chains["c.txt"]] == [(second, "A")]


@pytest.mark.slow  # 205 commits of one file: ~30 s on 2 busy cores
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


def test_a_copy_has_the_age_of_the_key_it_copied(tmp_path: Path, age: AgeKey) -> None:
    """`cp a b` and an edit of b: b holds a's data key, as old as a's add. A later
    rotation of a does not make b's key new; a rotation of b does."""
    repo, _ = _history(tmp_path, age, "set")  # s.sops.yaml: added 800 days ago, edited
    (repo / "apps").mkdir()
    (repo / "apps/copy.sops.yaml").write_bytes((repo / "s.sops.yaml").read_bytes())
    sops_run(repo, "set", "apps/copy.sops.yaml", '["stringData"]["a"]',
             json.dumps(fakes.password()), key=age.secret)
    commit(repo, "a new app from a copy", date=_ago(5))
    path = repo / "s.sops.yaml"
    path.write_bytes(sops_run(repo, "rotate", str(path), key=age.secret))
    commit(repo, "rotate the original", date=_ago(3))
    found = {f["path"]: f["message"] for f in _rotation(repo)}
    assert list(found) == ["apps/copy.sops.yaml"]
    assert "800 days ago" in found["apps/copy.sops.yaml"]
    assert "as a copy of s.sops.yaml" in found["apps/copy.sops.yaml"]
    assert "the file was added here" in found["apps/copy.sops.yaml"]
    copy = repo / "apps/copy.sops.yaml"
    copy.write_bytes(sops_run(repo, "rotate", str(copy), key=age.secret))
    commit(repo, "rotate the copy", date=_ago(1))
    assert _rotation(repo) == []


def test_a_new_file_shares_no_key_with_an_older_one(tmp_path: Path, age: AgeKey) -> None:
    repo, _ = _history(tmp_path, age, "set")
    sops_encrypt(repo, "fresh.sops.yaml", DOC.format(a=fakes.password(), b=fakes.password()),
                 age=[age.recipient], extra=REGEX)
    commit(repo, "a new file, encrypted afresh", date=_ago(5))
    assert [f["path"] for f in _rotation(repo)] == ["s.sops.yaml"]
