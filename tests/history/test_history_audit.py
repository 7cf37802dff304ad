"""`audit --history` on a real history: plaintext committed and deleted, the same value in
several commits and files (one finding), a leak only on a tagged branch, an inline allow,
a baseline, SARIF, and plaintext-still-in-use when today's sops file holds the leaked value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.audit import fakes
from tests.audit.repos import commit, new_repo, sops_encrypt, sops_run, write
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
        data = json.loads(r.stdout)
        if "--fail-on" not in args:  # exit 1 exactly when a finding reaches the default (high)
            assert r.code == int(any(f["severity"] in ("critical", "high")
                                     for f in data["findings"])), data["findings"]
        return r.code, data


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
    # no identity at all: said so, and today's files are not read for it
    r = run_cli("--repo", repo.repo, "audit", "--history", "--no-keyring")
    assert "plaintext-still-in-use not checked" in r.stdout + r.stderr
    r = run_cli("--repo", repo.repo, "audit", "--history", "--no-keyring", "--identity",
                str(repo.keys))
    assert "plaintext-still-in-use not checked" not in r.stdout + r.stderr


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
    # the history pass ran (and found nothing to read), not skipped
    assert "note: history: 0 commit(s), 0 blob(s) scanned" in r.stdout, r.stdout
    assert r.stdout.endswith("0 findings in 0 files scanned\n"), r.stdout


def test_history_finds_what_the_tree_audit_found_on_the_evasion_corpus(tmp_path: Path) -> None:
    """The evasion corpus committed: `--history` reports exactly the plaintext values the
    tree audit reports (same detectors, same recall), with the tree audit's fingerprints
    while the values are in the tree. Deleted, the same values at the same places, now
    fingerprinted by where they were committed (no value fingerprint of a value gone from
    the tree: see leaks.py)."""
    from tests.audit.evasions import write_corpus

    repo = new_repo(tmp_path / "corpus")
    write_corpus(repo)
    first = commit(repo, "corpus")
    tree = json.loads(run_cli("--repo", repo, "audit", "--format", "json", "--no-keyring",
                              "--fail-on", "critical").stdout)["findings"]

    def history() -> list[dict]:  # type: ignore[type-arg]
        r = run_cli("--repo", repo, "audit", "--history", "--format", "json", "--no-keyring")
        return json.loads(r.stdout)["findings"]  # type: ignore[no-any-return]

    plaintext = {(f["rule"], f["fingerprint"]) for f in tree if f["category"] == "plaintext"}
    assert len(plaintext) > 50
    live = history()
    assert {(f["rule"], f["fingerprint"]) for f in live} == plaintext
    assert all(f["still_in_tree"] and f["commit"] == first for f in live)
    git(repo, "rm", "-rq", ".")
    commit(repo, "gone")
    gone = history()
    place = [(f["rule"], f["path"], f["line"], f["severity"]) for f in live]
    assert [(f["rule"], f["path"], f["line"], f["severity"]) for f in gone] == place
    assert {f["commit"] for f in gone} == {first}
    assert not any(f["still_in_tree"] for f in gone)
    same = {f["rule"] for f, g in zip(live, gone, strict=True) if f["fingerprint"] == g["fingerprint"]}
    assert same <= {"unencrypted-file", "sops-no-encrypted-values"}, same  # no value: by path
    assert len({f["fingerprint"] for f in gone}) == len(gone)
    assert history() == gone  # stable from run to run


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


def test_vendored_dirs_left_to_git_and_side_branches_kept(tmp_path: Path) -> None:
    """Vendored directories are not walked (git excludes them), and the path filter does
    not hide a merged branch that added a secret and removed it again (git's history
    simplification would: the merge leaves every non-vendored path as it was)."""
    repo = new_repo(tmp_path / "v")
    write(repo, "a.txt", "a\n")
    commit(repo, "base")
    git(repo, "checkout", "-q", "-b", "topic")
    token = fakes.github()
    write(repo, "ci/gh.env", f"GITHUB_TOKEN={token}\n")
    leak = commit(repo, "token")
    git(repo, "rm", "-q", "ci/gh.env")
    write(repo, "lib/vendor/dep/.env", f"GITHUB_TOKEN={fakes.github()}\n")
    commit(repo, "drop it, vendor a dependency")
    git(repo, "checkout", "-q", "main")
    write(repo, "c.txt", "c\n")
    commit(repo, "main moves")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge topic", "topic")
    git(repo, "branch", "-q", "-D", "topic")
    r = run_cli("--repo", repo, "audit", "--history", "--format", "json", "--no-keyring")
    found = [(f["rule"], f["path"], f["commit"]) for f in json.loads(r.stdout)["findings"]]
    assert found == [("github-token", "ci/gh.env", leak)]


def test_versions_differing_only_in_ciphertext_share_one_scan(
        tmp_path: Path, age: AgeKey, monkeypatch: pytest.MonkeyPatch) -> None:
    """`sops set` re-encrypts (new values, MAC, lastmodified): such versions take the
    result of the last scanned one, so a plaintext value sops was told to store is
    reported at the commit that added it and still in the tree through later re-encrypts;
    a version that changes a plaintext value is scanned again."""
    from sopskit.history.leaks import shape

    repo = new_repo(tmp_path / "repo")
    rel = "apps/db/secret.sops.yaml"
    path = sops_encrypt(repo, rel, "stringData:\n  password: first-value\nconfig:\n  note: hi\n",
                        age=[age.recipient], extra=("--encrypted-regex", "^stringData$"))
    versions = [path.read_bytes()]
    commit(repo, "sops file")

    def sops_set(key_path: str, value: str) -> bytes:
        sops_run(repo, "set", rel, key_path, json.dumps(value), key=age.secret)
        versions.append(path.read_bytes())
        return versions[-1]

    sops_set('["stringData"]["password"]', "second-value")
    commit(repo, "rotate the password")
    pw, other = fakes.password(), fakes.password()
    sops_set('["config"]["db_password"]', pw)  # outside encrypted_regex: stored in plaintext
    leak = commit(repo, "plaintext by mistake")
    sops_set('["stringData"]["password"]', "third-value")
    commit(repo, "re-encrypted, the plaintext stays")
    assert shape(rel, versions[0]) == shape(rel, versions[1])  # ciphertext-only change
    assert shape(rel, versions[1]) != shape(rel, versions[2])
    assert shape(rel, versions[2]) == shape(rel, versions[3])
    assert versions[2] != versions[3]
    assert shape("elsewhere.sops.yaml", versions[3]) != shape(rel, versions[3])

    r = run_cli("--repo", repo, "audit", "--history", "--format", "json", "--no-keyring")
    found = [(f["path"], f["commit"], f["still_in_tree"])
             for f in json.loads(r.stdout)["findings"]]
    assert found == [(rel, leak, True)]
    # scanned once per shape: versions 0 and 1 share one, 2 is one, and 3 (today's, which
    # takes the tree audit's fingerprints) one: a fourth scan means the sharing is broken
    from sopskit.audit import scan
    from sopskit.history import leaks

    scanned: list[str] = []
    real = leaks.scan_bytes

    def counting(path: str, data: bytes, *args: object, **kwargs: object) -> scan.FileResult:
        scanned.append(path)
        return real(path, data, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(leaks, "scan_bytes", counting)
    leaks.scan_history(repo, scan.ScanSettings(), jobs=1)
    assert scanned.count(rel) == 3
    sops_set('["config"]["db_password"]', other)  # a new plaintext value: scanned again
    commit(repo, "another plaintext value")
    r = run_cli("--repo", repo, "audit", "--history", "--format", "json", "--no-keyring")
    assert len(json.loads(r.stdout)["findings"]) == 2


def test_shape_masks_only_ciphertext() -> None:
    """A block between age armour lines that holds anything but base64 is not masked: a
    `key: value` line can't hide in one."""
    from sopskit.history.leaks import shape

    def doc(body: str, day: int = 1) -> bytes:
        return ("data:\n  x: ENC[AES256_GCM,data:" + body + ",iv:aXY=,tag:dGFn,type:str]\n"
                f"sops:\n  lastmodified: \"2024-01-{day:02d}T00:00:00Z\"\n"
                "  enc: |\n    -----BEGIN AGE ENCRYPTED FILE-----\n    " + body + "\n"
                "    -----END AGE ENCRYPTED FILE-----\n").encode()

    assert shape("s.yaml", doc("QUJD")) == shape("s.yaml", doc("WFla", 2))
    hidden = doc("QUJD").replace(b"    QUJD\n", b"    password: hunter2-hidden\n")
    assert shape("s.yaml", hidden) != shape("s.yaml", doc("QUJD"))
