"""sopskit diff on real git repositories with files the real sops wrote: key-less and with a
key, never a value in any output format."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sopskit.review.diff import FileDiff, ValueChange
from sopskit.review.render import markdown, text
from tests.helpers import AgeKey, age_key, clean_env, git, git_repo, run_cli, run_sops

SECRET = """\
apiVersion: v1
kind: Secret
metadata:
    name: db
stringData:
    USER: admin-user-1
    PASSWORD: first-pass-1
"""
SECRET_VALUES = ("admin-user-1", "first-pass-1", "second-pass-2", "token-value-3")


@pytest.fixture
def repo(tmp_path: Path, age: AgeKey) -> Path:
    repo = git_repo(tmp_path / "repo")
    path = repo / "db.yaml"
    path.write_text(SECRET)
    done = run_sops("encrypt", "-i", "--age", age.recipient, "--encrypted-regex",
                    "^(data|stringData)$", path, env={})
    assert done.returncode == 0, done.stderr
    (repo / "README").write_text("not a secret\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "init")
    return repo


def sopskit(repo: Path, *args: str, key: AgeKey | None = None, stdin: str | None = None):  # type: ignore[no-untyped-def]
    env = clean_env({"SOPS_AGE_KEY": key.secret} if key else None)
    done = run_cli("--repo", repo, *args, env=env, input=stdin, cwd=repo)
    assert done.code == 0, done.stderr
    for value in SECRET_VALUES:
        assert value not in done.stdout + done.stderr
    return done.stdout


def edit(repo: Path, key: AgeKey) -> None:
    sopskit(repo, "set", "db.yaml", '["stringData"]["PASSWORD"]', "--value-stdin", key=key,
            stdin="second-pass-2")
    sopskit(repo, "set", "db.yaml", '["stringData"]["TOKEN"]', "--value-stdin", key=key,
            stdin="token-value-3")
    sopskit(repo, "set", "db.yaml", '["metadata"]["namespace"]', "--value", "prod", key=key)


def test_keyless_work_tree(repo: Path, age: AgeKey) -> None:
    edit(repo, age)
    # every encrypted value changes: the unchanged wrapped data key still tells "kept"
    sopskit(repo, "set", "db.yaml", '["stringData"]["USER"]', "--value-stdin", key=age,
            stdin="second-pass-2")
    (repo / "README").write_text("changed\n")
    out = sopskit(repo, "diff")
    assert "db.yaml (modified)" in out and "README" not in out
    assert "data key: kept" in out and "no key of yours" in out
    lines = {ln.split()[1]: ln for ln in out.splitlines() if ln.startswith("  ") and
             ln.split()[0] in "+-~="}
    assert set(lines) == {"stringData.PASSWORD", "stringData.TOKEN", "metadata.namespace",
                          "stringData.USER"}
    assert "ciphertext changed" in lines["stringData.PASSWORD"]
    assert '"prod" (plaintext)' in lines["metadata.namespace"]


def test_with_key_fingerprints_and_formats(repo: Path, age: AgeKey) -> None:
    edit(repo, age)
    sopskit(repo, "set", "db.yaml", '["stringData"]["USER"]', "--value-stdin", key=age,
            stdin="first-pass-1")  # USER now equals the old PASSWORD
    out = json.loads(sopskit(repo, "diff", "--format", "json", key=age))
    (file,) = out["files"]
    assert file["opened"] and file["data_key"] == "kept"
    by_path = {c["key_path"]: c for c in file["changes"]}
    assert by_path["stringData.USER"]["new"] == by_path["stringData.PASSWORD"]["old"]
    assert by_path["stringData.PASSWORD"]["old"] != by_path["stringData.PASSWORD"]["new"]
    assert len(by_path["stringData.TOKEN"]["new"]) == 8
    md = sopskit(repo, "diff", "--format", "markdown", key=age)
    assert "| ~ | `stringData.PASSWORD` | changed |" in md


def test_rotation_recipients_and_revisions(repo: Path, age: AgeKey) -> None:
    other = age_key()
    done = run_sops("rotate", "-i", "--add-age", other.recipient, repo / "db.yaml",
                    env={"SOPS_AGE_KEY": age.secret})
    assert done.returncode == 0, done.stderr
    git(repo, "commit", "-qam", "rotate")
    keyless = sopskit(repo, "diff", "HEAD~1", "HEAD")
    assert f"recipients added: age:{other.recipient}" in keyless or other.recipient in keyless
    assert "data key rotated?" in keyless
    assert "? stringData.PASSWORD" in keyless and "~ " not in keyless
    with_key = sopskit(repo, "diff", "HEAD~1", "HEAD", "--", "db.yaml", key=age)
    assert "data key: rotated" in with_key and "value unchanged, new ciphertext" in with_key
    assert "no sops file changed" in sopskit(repo, "diff", "HEAD~1", "HEAD", "--", "README")


def test_staged_and_crypt_rule(repo: Path, age: AgeKey) -> None:
    plain = run_sops("decrypt", repo / "db.yaml", env={"SOPS_AGE_KEY": age.secret}).stdout
    (repo / "db.yaml").write_bytes(plain)
    done = run_sops("encrypt", "-i", "--age", age.recipient, "--encrypted-regex", "^stringData$",
                    repo / "db.yaml", env={})
    assert done.returncode == 0
    assert "no sops file changed" in sopskit(repo, "diff", "--staged")
    git(repo, "add", "db.yaml")
    out = sopskit(repo, "diff", "--staged", key=age)
    assert "crypt rule: encrypted_regex='^(data|stringData)$' -> " \
           "encrypted_regex='^stringData$'" in out
    assert "data key: rotated" in out


def test_a_repository_without_commits(tmp_path: Path, age: AgeKey) -> None:
    repo = git_repo(tmp_path / "fresh")
    (repo / "db.yaml").write_text(SECRET)
    assert run_sops("encrypt", "-i", "--age", age.recipient, repo / "db.yaml",
                    env={}).returncode == 0
    git(repo, "add", "db.yaml")
    for args in (("diff", "--staged"), ("diff",)):
        out = sopskit(repo, *args)
        assert "db.yaml (added)" in out and "+ stringData.PASSWORD" in out


def test_bad_revision(repo: Path) -> None:
    done = run_cli("--repo", repo, "diff", "no-such-rev", env=clean_env())
    assert done.code == 3 and "Traceback" not in done.stderr
    assert "git diff failed: fatal: bad revision 'no-such-rev'" in done.stderr
    outside = run_cli("diff", env=clean_env(), cwd=repo.parent)
    assert outside.code == 3 and "not a git repository" in outside.stderr, outside.stderr
    dash = run_cli("--repo", repo, "diff", "--", env=clean_env())
    assert dash.code == 0


def test_markdown_cells_hold_any_key_or_plaintext_value() -> None:
    """A key path with a backtick or pipe stays one code span in one cell, and a value
    stored in plaintext cannot open a code span or become HTML in the posted comment."""
    diff = FileDiff("a`b.yaml", "a`b.yaml", "modified", [
        ValueChange("stringData.k|e`y", "changed", True, "11111111", "22222222"),
        ValueChange("metadata.note", "changed", False, "`x", "<img src=x onerror=alert(1)>"),
    ])
    md = markdown([diff])
    assert "#### ``a`b.yaml (modified)``" in md
    rows = [ln for ln in md.splitlines() if ln.startswith("| ~ |")]
    cells = [re.split(r"(?<!\\)\|", row)[1:-1] for row in rows]
    assert [len(c) for c in cells] == [4, 4]
    assert cells[0][1].strip() == "``stringData.k\\|e`y``"
    assert "<img" not in md and "\\`x" in cells[1][3]


def test_text_report_names_cannot_forge_lines() -> None:
    diff = FileDiff("a\nb.yaml", "a\nb.yaml", "modified", [
        ValueChange("k\n  - stringData.FAKE  removed\x1b[2K", "changed", True, "1", "2")])
    lines = text([diff]).splitlines()
    assert len(lines) == 3 and lines[0] == "a\\nb.yaml (modified)"
    assert "\x1b" not in lines[2] and "\\n  - stringData.FAKE" in lines[2]
