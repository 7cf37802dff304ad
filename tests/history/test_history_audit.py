"""`audit --history` on a real history: plaintext committed and deleted, the same value in
several commits and files (one finding), a leak only on a tagged branch, an inline allow,
a baseline, SARIF, and plaintext-still-in-use when today's sops file holds the leaked value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.audit import fakes
from tests.audit.repos import commit, new_repo, sops_encrypt, write
from tests.helpers import AgeKey, git, run_cli


class Repo:
    def __init__(self, tmp_path: Path, age: AgeKey) -> None:
        self.age, self.repo = age, new_repo(tmp_path / "repo")
        self.keys = write(tmp_path, "keys.txt", age.secret + "\n")
        self.pw, self.token, self.aws = fakes.password(), fakes.github(), fakes.aws_secret()
        write(self.repo, "README.md", "demo\n")
        write(self.repo, "apps/db/values.yaml", f"db:\n  password: {self.pw}\n")
        self.first = commit(self.repo, "values with a password")
        write(self.repo, "apps/db/copy.yaml", f"backup:\n  password: {self.pw}\n")
        write(self.repo, "apps/ok/values.yaml",
              f"api:\n  token: {fakes.github()}  # sopskit: allow github-token generic-secret\n")
        commit(self.repo, "copy")
        git(self.repo, "rm", "-q", "apps/db/values.yaml", "apps/db/copy.yaml")
        sops_encrypt(self.repo, "apps/db/secret.sops.yaml",
                     f"stringData:\n  password: {self.pw}\n", age=[age.recipient],
                     extra=("--encrypted-regex", "^stringData$"))
        commit(self.repo, "move it into sops")
        git(self.repo, "checkout", "-q", "-b", "leak")
        write(self.repo, "ci/gh.env", f"GITHUB_TOKEN={self.token}\n")
        self.leak = commit(self.repo, "ci token")
        git(self.repo, "tag", "v1-leak")
        git(self.repo, "checkout", "-q", "main")
        git(self.repo, "branch", "-D", "leak")
        write(self.repo, "ops/aws.ini", f"[default]\naws_secret_access_key = {self.aws}\n")
        self.aws_commit = commit(self.repo, "aws, still here")
        git(self.repo, "mv", "ops/aws.ini", "ops/aws-prod.ini")  # same blob, new name
        commit(self.repo, "rename")

    def audit(self, *args: str) -> tuple[int, dict]:
        r = run_cli("--repo", self.repo, "audit", "--history", "--format", "json",
                    "--no-keyring", *args)
        assert r.code in (0, 1), r.stderr
        return r.code, json.loads(r.stdout)


@pytest.fixture
def repo(tmp_path: Path, age: AgeKey) -> Repo:
    return Repo(tmp_path, age)


def test_every_value_ever_committed_once(repo: Repo) -> None:
    code, data = repo.audit()
    found = {(f["rule"], f["path"], f["commit"], f["still_in_tree"]) for f in data["findings"]}
    assert found == {
        ("generic-secret", "apps/db/values.yaml", repo.first, False),
        ("github-token", "ci/gh.env", repo.leak, False),
        ("aws-secret-access-key", "ops/aws.ini", repo.aws_commit, True),
    }
    assert code == 1
    assert repo.pw not in json.dumps(data) and repo.token not in json.dumps(data)
    text = run_cli("--repo", repo.repo, "audit", "--history", "--no-keyring").stdout
    assert f"[commit {repo.leak[:12]}, gone from the tree]" in text
    # commits not reachable from main: only the tag's
    only_tag = repo.audit("--since", "main")[1]["findings"]
    assert [(f["rule"], f["commit"]) for f in only_tag] == [("github-token", repo.leak)]


def test_plaintext_still_in_use_with_a_key(repo: Repo) -> None:
    _, data = repo.audit("--identity", str(repo.keys))
    live = [f for f in data["findings"] if f["rule"] == "plaintext-still-in-use"]
    assert len(live) == 1 and live[0]["severity"] == "critical"
    assert live[0]["path"] == "apps/db/secret.sops.yaml" and live[0]["commit"] == repo.first
    assert "stringData.password" in live[0]["message"] and "rotate the value" in \
        live[0]["message"] and repo.pw not in live[0]["message"]
    _, keyless = repo.audit()
    assert "plaintext-still-in-use" not in {f["rule"] for f in keyless["findings"]}


def test_baseline_and_sarif(repo: Repo) -> None:
    r = run_cli("--repo", repo.repo, "audit", "baseline", "create", "--history",
                "--no-keyring")
    assert r.code == 0 and "3 finding(s) accepted" in r.stderr
    code, data = repo.audit()
    assert code == 0 and data["findings"] == []
    (repo.repo / ".sopskit-baseline.json").unlink()
    sarif = json.loads(run_cli("--repo", repo.repo, "audit", "--history", "--format",
                               "sarif", "--no-keyring").stdout)
    props = {r["ruleId"]: r["properties"] for r in sarif["runs"][0]["results"]}
    assert props["github-token"]["commit"] == repo.leak
    assert props["github-token"]["stillInTree"] is False


def test_history_refuses_paths_and_empty_repo_is_clean(tmp_path: Path, repo: Repo) -> None:
    r = run_cli("--repo", repo.repo, "audit", "--history", "apps")
    assert r.code == 2 and r.stderr.count("\n") == 1
    empty = new_repo(tmp_path / "empty")
    r = run_cli("--repo", empty, "audit", "--history", "--no-keyring")
    assert r.code == 0, r.stderr


def test_history_finds_what_the_tree_audit_found_on_the_evasion_corpus(tmp_path: Path) -> None:
    """The evasion corpus committed, then deleted: `--history` reports exactly the plaintext
    values the tree audit reported while it was there (same detectors, same recall)."""
    from tests.audit.evasions import write_corpus

    repo = new_repo(tmp_path / "corpus")
    write_corpus(repo)
    first = commit(repo, "corpus")
    tree = json.loads(run_cli("--repo", repo, "audit", "--format", "json", "--no-keyring",
                              "--fail-on", "critical").stdout)["findings"]
    git(repo, "rm", "-rq", ".")
    commit(repo, "gone")
    r = run_cli("--repo", repo, "audit", "--history", "--format", "json", "--no-keyring")
    history = json.loads(r.stdout)["findings"]
    plaintext = {(f["rule"], f["fingerprint"]) for f in tree if f["category"] == "plaintext"}
    assert len(plaintext) > 50
    assert {(f["rule"], f["fingerprint"]) for f in history} == plaintext
    assert {f["commit"] for f in history} == {first}
    assert not any(f["still_in_tree"] for f in history)


def test_content_made_in_a_merge_commit_is_scanned(tmp_path: Path) -> None:
    """A value that only a merge commit holds (a resolved conflict, an 'evil merge')."""
    repo = new_repo(tmp_path / "m")
    write(repo, "a.txt", "a\n")
    commit(repo, "base")
    git(repo, "checkout", "-q", "-b", "topic")
    write(repo, "b.txt", "b\n")
    commit(repo, "topic")
    git(repo, "checkout", "-q", "main")
    write(repo, "c.txt", "c\n")
    commit(repo, "main moves")
    git(repo, "merge", "-q", "--no-ff", "--no-commit", "topic")
    token = fakes.github()
    write(repo, "ci/gh.env", f"GITHUB_TOKEN={token}\n")
    merge = commit(repo, "merge topic, with a token")
    git(repo, "rm", "-q", "ci/gh.env")
    commit(repo, "drop it")
    r = run_cli("--repo", repo, "audit", "--history", "--format", "json", "--no-keyring")
    found = [(f["rule"], f["path"], f["commit"]) for f in json.loads(r.stdout)["findings"]]
    assert found == [("github-token", "ci/gh.env", merge)]
