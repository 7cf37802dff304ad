"""encrypt --all / encrypt -i DIR with the real sops in a real git repository: the plan
names what must be encrypted (promising names, plaintext Secrets), --dry-run writes
nothing, failures are reported with exit 1 while the other files are done."""

from __future__ import annotations

import os
import pty
import sys
from pathlib import Path

import pytest

from tests.helpers import AgeKey, clean_env, git, git_repo, read_terminal, run_cli, run_sops

SECRET = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\nstringData:\n  K: secret-v1\n"
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  K: v1\n"


@pytest.fixture
def repo(tmp_path: Path, age: AgeKey) -> Path:
    repo = git_repo(tmp_path / "repo")
    (repo / ".sops.yaml").write_text(
        "creation_rules:\n  - path_regex: .*\\.ya?ml$\n    encrypted_regex: ^(data|stringData)$"
        f"\n    age: {age.recipient}\n  - path_regex: .*\n    age: {age.recipient}\n")
    for rel, text in {"clusters/prod/secret.yaml": SECRET, "clusters/prod/cm.yaml": CONFIGMAP,
                      "apps/app.sops.env": "TOKEN=tok-1\n", "apps/secret.sops.yaml.j2": SECRET,
                      "ignored/secret.yaml": SECRET}.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    (repo / ".gitignore").write_text("ignored/\n")
    git(repo, "add", "-A")
    return repo


def sopskit(repo: Path, age: AgeKey, *args: str):  # type: ignore[no-untyped-def]
    return run_cli("--repo", repo, *args, cwd=repo, env=clean_env({"SOPS_AGE_KEY": age.secret}))


def test_plan_dry_run_then_encrypt(repo: Path, age: AgeKey) -> None:
    dry = sopskit(repo, age, "encrypt", "--all", "--dry-run")
    assert dry.code == 0, dry.stderr
    planned = sorted(ln.split()[0] for ln in dry.stdout.splitlines() if ln.startswith("  "))
    assert planned == ["apps/app.sops.env", "clusters/prod/secret.yaml"]
    assert (repo / "clusters/prod/secret.yaml").read_text() == SECRET
    done = sopskit(repo, age, "encrypt", "--all", "--jobs", "2")
    assert done.code == 0, done.stderr
    assert "encrypted 2 of 2 file(s)" in done.stdout
    for rel in planned:
        out = run_sops("decrypt", repo / rel, env={"SOPS_AGE_KEY": age.secret})
        assert out.returncode == 0 and b"ENC[" not in out.stdout
    assert (repo / "clusters/prod/cm.yaml").read_text() == CONFIGMAP
    assert (repo / "ignored/secret.yaml").read_text() == SECRET
    again = sopskit(repo, age, "encrypt", "--all")
    assert again.code == 0 and "nothing to encrypt" in again.stderr


def test_in_place_directory_and_failure(repo: Path, age: AgeKey) -> None:
    (repo / "clusters/prod/values.enc.yaml").write_text("x: 1\n")  # no value to encrypt
    done = sopskit(repo, age, "encrypt", "-i", "clusters")
    assert done.code == 1
    assert "failed: clusters/prod/values.enc.yaml" in done.stderr
    assert "encrypted 1 of 2 file(s), 1 failed" in done.stdout
    assert "sops:" in (repo / "clusters/prod/secret.yaml").read_text()
    assert (repo / "clusters/prod/values.enc.yaml").read_text() == "x: 1\n"
    assert (repo / "apps/app.sops.env").read_text() == "TOKEN=tok-1\n"  # outside DIR


def test_a_path_with_brackets_is_not_a_glob(repo: Path, age: AgeKey) -> None:
    for rel in ("env[1]/secret.yaml", "env1/secret.yaml"):
        (repo / rel).parent.mkdir()
        (repo / rel).write_text(SECRET)
    git(repo, "add", "-A")
    done = sopskit(repo, age, "encrypt", "--all", "env[1]/secret.yaml")
    assert done.code == 0, done.stderr
    assert "encrypted 1 of 1 file(s)" in done.stdout
    assert (repo / "env1/secret.yaml").read_text() == SECRET
    assert "ENC[" in (repo / "env[1]/secret.yaml").read_text()


def test_registry_rules_and_encrypted_files(tmp_path: Path, age: AgeKey) -> None:
    """With keys/registry.yaml: its encrypted_files say which names must be encrypted (here
    `**/*.secret.*`, so `x.sops.env` is not), its rules give the recipients, and a file no
    rule covers is planned but fails with the reason (the others are done)."""
    repo = git_repo(tmp_path / "repo")
    files = {
        "keys/registry.yaml": (
            "version: 1\ndefaults:\n  encrypted_regex: ^(data|stringData)$\n"
            "  encrypted_files: ['**/*.secret.*']\nclusters:\n  prod: {}\nkeys:\n"
            f"  me:\n    type: age\n    recipient: {age.recipient}\n    clusters: ['*']\n"
            "rules:\n  - path: clusters/prod/**\n    clusters: [prod]\n"),
        "clusters/prod/db.yaml": SECRET,
        "clusters/prod/app.secret.env": "TOKEN=tok-2\n",
        "clusters/prod/x.sops.env": "A=1\n",
        "elsewhere/db.yaml": SECRET,
    }
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    done = sopskit(repo, age, "encrypt", "--all")
    assert done.code == 1
    planned = sorted(ln.split()[0] for ln in done.stdout.splitlines() if ln.startswith("  "))
    assert planned == ["clusters/prod/app.secret.env", "clusters/prod/db.yaml",
                       "elsewhere/db.yaml"]
    assert "failed: elsewhere/db.yaml" in done.stderr
    assert "registry.yaml rule" in done.stdout
    for rel in ("clusters/prod/app.secret.env", "clusters/prod/db.yaml"):
        out = run_sops("decrypt", repo / rel, env={"SOPS_AGE_KEY": age.secret})
        assert out.returncode == 0, rel
    assert (repo / "clusters/prod/x.sops.env").read_text() == "A=1\n"


def test_progress_bar_on_a_terminal(repo: Path, age: AgeKey) -> None:
    env = clean_env({"SOPS_AGE_KEY": age.secret})
    pid, fd = pty.fork()
    if pid == 0:  # sopskit on a real pseudo-terminal
        os.chdir(repo)
        os.execve(sys.executable, [sys.executable, "-m", "sopskit", "encrypt", "--all"], env)
    seen = read_terminal(fd)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, seen
    assert b"encrypting" in seen and b"100%" in seen
    assert b"encrypted 2 of 2 file(s)" in seen
