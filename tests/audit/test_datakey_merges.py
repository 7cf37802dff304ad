"""Data-key ages across branches, merges, shallow clones and renames git does not see (real
git, real sops): the age is that of the data key the file at HEAD holds, whichever branch
made it, and the history cache does not change the answer."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sopskit.history.logcache import CACHE_NAME
from tests.audit import fakes
from tests.audit.repos import commit, new_repo, sops_encrypt, sops_run
from tests.helpers import AgeKey, age_key, git, run_cli, run_sops

DOC = "kind: Secret\nstringData:\n  a: {a}\n"
REGEX = ("--encrypted-regex", "^(data|stringData)$")


def _ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _stale(repo: Path, days: int) -> list[str]:
    res = run_cli("--repo", repo, "audit", "--format", "json", "--no-keyring",
                  "--max-data-key-age", str(days))
    everything = json.loads(res.stdout)["findings"]
    # exit 1 exactly when a finding reaches the default --fail-on high (the verdict CI reads)
    assert res.code == int(any(f["severity"] in ("critical", "high") for f in everything)), \
        (res.code, res.stderr)
    return [f["message"] for f in everything if f["rule"] == "data-key-stale"]


def _merge(repo: Path, *args: str) -> None:
    subprocess.run(["git", "merge", "-q", "--no-edit", *args, "side"], cwd=repo, check=True,
                   capture_output=True, timeout=60)


def _branches(tmp_path: Path, age: AgeKey) -> Path:
    """main: added 800 days ago, rotated 300 days ago; side (forked at the add): rotated
    500 days ago."""
    repo = new_repo(tmp_path / "r")
    path = sops_encrypt(repo, "s.sops.yaml", DOC.format(a=fakes.password()),
                        age=[age.recipient], extra=REGEX)
    commit(repo, "add", date=_ago(800))
    main = git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "side")
    path.write_bytes(sops_run(repo, "rotate", str(path), key=age.secret))
    commit(repo, "rotate on side", date=_ago(500))
    git(repo, "checkout", "-q", main)
    path.write_bytes(sops_run(repo, "rotate", str(path), key=age.secret))
    commit(repo, "rotate on main", date=_ago(300))
    return repo


def test_a_merge_keeping_main_s_key_with_and_without_the_cache(tmp_path: Path,
                                                              age: AgeKey) -> None:
    repo = _branches(tmp_path, age)
    assert _stale(repo, 400) == []  # the cache now holds main's history
    _merge(repo, "-s", "ours")
    assert _stale(repo, 400) == []  # the side branch's older key is not the file's
    (repo / ".git" / CACHE_NAME).unlink()
    assert _stale(repo, 400) == []


def test_a_merge_taking_the_side_branch_s_key(tmp_path: Path, age: AgeKey) -> None:
    repo = _branches(tmp_path, age)
    _merge(repo, "-X", "theirs")
    found = _stale(repo, 400)  # the file holds side's key, made 500 days ago
    assert len(found) == 1 and "500 days ago" in found[0]


def test_a_shallow_clone_says_the_ages_it_cannot_know(tmp_path: Path, age: AgeKey) -> None:
    """CI checks out one commit: the file looks added there; the audit must not pass it
    silently as a fresh data key."""
    repo = new_repo(tmp_path / "r")
    path = sops_encrypt(repo, "s.sops.yaml", DOC.format(a=fakes.password()),
                        age=[age.recipient], extra=REGEX)
    commit(repo, "add", date=_ago(800))
    sops_run(repo, "set", str(path), '["stringData"]["a"]', json.dumps(fakes.password()),
             key=age.secret)
    commit(repo, "set", date=_ago(10))
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(clone))
    res = run_cli("--repo", clone, "audit", "--no-keyring", "--max-data-key-age", "400")
    assert "data-key age of 1 sops file(s) unknown: this clone's history is incomplete" in res.stdout + res.stderr
    git(clone, "fetch", "-q", "--unshallow")
    assert len(_stale(clone, 400)) == 1 and "800 days ago" in _stale(clone, 400)[0]


def test_git_mv_and_updatekeys_in_one_commit_keep_the_age(tmp_path: Path, age: AgeKey) -> None:
    """Moving a secret under another rule and running `sops updatekeys` in the same commit:
    every wrapped key changes, so git sees a delete and an add; the data key is the old one
    (the values and MAC are unchanged)."""
    repo = new_repo(tmp_path / "r")
    sops_encrypt(repo, "old/s.sops.yaml", DOC.format(a=fakes.password()),
                 age=[age.recipient], extra=REGEX)
    commit(repo, "add", date=_ago(800))
    git(repo, "mv", "old", "new")
    other = age_key()
    config = tmp_path / "moved.yaml"
    config.write_text(f"creation_rules:\n  - age: {age.recipient},{other.recipient}\n")
    done = run_sops("--config", config, "updatekeys", "-y", "new/s.sops.yaml",
                    env={"SOPS_AGE_KEY": age.secret}, cwd=repo)
    assert done.returncode == 0, done.stderr.decode()
    commit(repo, "move and updatekeys", date=_ago(10))
    statuses = git(repo, "show", "--format=", "--name-status", "-M", "HEAD").split()
    assert "D" in statuses and "A" in statuses  # git did not pair them
    found = _stale(repo, 400)
    assert len(found) == 1 and "800 days ago" in found[0]
    assert "called old/s.sops.yaml then" in found[0]


def test_rekey_in_a_shallow_clone_says_the_age_is_unknown(tmp_path: Path, age: AgeKey) -> None:
    repo = new_repo(tmp_path / "r")
    (repo / ".sops.yaml").write_text("creation_rules:\n  - encrypted_regex: ^(data|stringData)$\n"
                                     f"    age: {age.recipient}\n")
    path = sops_encrypt(repo, "s.sops.yaml", DOC.format(a=fakes.password()),
                        age=[age.recipient], extra=REGEX)
    commit(repo, "add", date=_ago(800))
    sops_run(repo, "set", str(path), '["stringData"]["a"]', json.dumps(fakes.password()),
             key=age.secret)
    commit(repo, "set", date=_ago(10))
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(clone))
    res = run_cli("--repo", clone, "rekey", "--no-keyring", "--max-data-key-age", "400")
    assert "data-key age unknown (at least 10 days: this shallow clone" in res.stdout
    git(clone, "fetch", "-q", "--unshallow")
    res = run_cli("--repo", clone, "rekey", "--no-keyring", "--max-data-key-age", "400")
    assert "data key 800 days old (> 400" in res.stdout


def test_a_reverted_rotation_brings_the_old_key_back(tmp_path: Path, age: AgeKey) -> None:
    repo = new_repo(tmp_path / "r")
    path = sops_encrypt(repo, "s.sops.yaml", DOC.format(a=fakes.password()),
                        age=[age.recipient], extra=REGEX)
    commit(repo, "add", date=_ago(800))
    path.write_bytes(sops_run(repo, "rotate", str(path), key=age.secret))
    rotation = commit(repo, "rotate", date=_ago(20))
    subprocess.run(["git", "revert", "--no-edit", rotation], cwd=repo, check=True,
                   capture_output=True, timeout=60)
    found = _stale(repo, 400)  # the file holds the key made 800 days ago again
    assert len(found) == 1 and "800 days ago" in found[0]
