"""The hooks of .pre-commit-hooks.yaml run as pre-commit would run them (the entry as a
command, in the repository, staged files in the index)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from sopskit import yamlio
from tests.audit import fakes
from tests.audit.repos import commit, new_repo, sops_encrypt, write
from tests.helpers import AgeKey, git, run_cli

HOOKS = Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml"


def _hooks() -> dict[str, dict]:
    return {h["id"]: h for h in yamlio.load(HOOKS.read_text(), path=str(HOOKS))}


def _entry(hook: dict) -> list[str]:
    argv = shlex.split(hook["entry"])
    assert argv[0] == "sopskit"
    return argv[1:]


def test_hooks_are_declared() -> None:
    hooks = _hooks()
    assert set(hooks) == {"sopskit-audit", "sopskit-verify"}
    assert hooks["sopskit-audit"]["pass_filenames"] is False
    assert "--staged" in hooks["sopskit-audit"]["entry"]


def test_audit_hook_blocks_a_staged_secret(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    write(repo, "README.md", "hello\n")
    commit(repo)
    argv = _entry(_hooks()["sopskit-audit"])
    write(repo, "app/.env", f"GITHUB_TOKEN={fakes.github()}\n")
    git(repo, "add", "app/.env")
    blocked = run_cli(*argv, cwd=repo)
    assert blocked.code == 1 and "github-token" in blocked.stdout
    git(repo, "rm", "-q", "--cached", "app/.env")
    assert run_cli(*argv, cwd=repo).code == 0


@pytest.mark.parametrize("name", ["s.sops.yaml", "postgres-credentials.yaml"])
@pytest.mark.parametrize("tamper", ["", "tag", "metadata cut off"])
def test_verify_hook_on_staged_sops_files(tmp_path: Path, age: AgeKey, tamper: str,
                                          name: str) -> None:
    repo = new_repo(tmp_path / "r")
    path = sops_encrypt(repo, name, "kind: Secret\nstringData:\n  a: b1b2b3b4\n",
                        age=[age.recipient], extra=("--encrypted-regex", "^stringData$"))
    if tamper == "tag":
        path.write_text(path.read_text().replace(",tag:", ",tog:", 1))
    elif tamper:  # a truncated file: ENC[...] values and no sops metadata (Flux applies them)
        path.write_text(path.read_text().partition("\nsops:")[0] + "\n")
    hook = _hooks()["sopskit-verify"]
    assert "files" not in hook and hook["types"] == ["text"]  # every staged text file
    # what pre-commit passes: every staged text file, sops' own config and plain ones too
    write(repo, ".sops.yaml", f"creation_rules:\n  - age: {age.recipient}\n")
    write(repo, "deploy.yaml", "kind: Deployment\nmetadata:\n  name: sops\n")
    res = run_cli(*_entry(hook), name, ".sops.yaml", "deploy.yaml", cwd=repo)
    assert res.code == (1 if tamper else 0), res.stdout + res.stderr
    reported = {line.split()[1].split(":")[0] for line in res.stdout.splitlines()[:-1]}
    assert reported == {name}  # the config and the plain manifest are not sops files
    assert res.stdout.splitlines()[-1].startswith("0 ok, 1 failed" if tamper else "1 ok, 0 failed")
