"""Building real repositories for the audit tests: files, commits, and sops files made by
the real sops binary."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import git, git_repo, run_sops


def new_repo(path: Path) -> Path:
    repo = git_repo(path)
    git(repo, "config", "user.name", "t")
    git(repo, "config", "user.email", "t@example.invalid")
    return repo


def write(repo: Path, rel: str, text: str | bytes) -> Path:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def commit(repo: Path, message: str = "c", *, date: str | None = None) -> str:
    git(repo, "add", "-A")
    args = ["commit", "-q", "--allow-empty", "-m", message]
    if date:
        args += ["--date", date]
    env_date = {"GIT_COMMITTER_DATE": date} if date else {}
    import os
    import subprocess

    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, timeout=60,
                   env={**os.environ, **env_date})
    return git(repo, "rev-parse", "HEAD").strip()


def sops_encrypt(repo: Path, rel: str, plaintext: str, *, age: list[str],
                 extra: tuple[str, ...] = ()) -> Path:
    """Encrypt `plaintext` with the real sops to `rel` (a neutral cwd: no .sops.yaml)."""
    path = write(repo, rel, plaintext)
    empty = repo.parent / "empty-sops-config.yaml"
    empty.write_text("creation_rules: [{path_regex: ''}]\n")
    done = run_sops("--encrypt", "--config", str(empty), "--age", ",".join(age), *extra,
                    str(path), env={}, cwd=repo.parent)
    assert done.returncode == 0, done.stderr.decode()
    path.write_bytes(done.stdout)
    return path


def sops_run(repo: Path, *args: str, key: str) -> bytes:
    """Run sops with one age identity (SOPS_AGE_KEY) in a neutral cwd."""
    empty = repo.parent / "empty-sops-config.yaml"
    empty.write_text("creation_rules: [{path_regex: ''}]\n")
    done = run_sops("--config", str(empty), *args, env={"SOPS_AGE_KEY": key}, cwd=repo)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout
