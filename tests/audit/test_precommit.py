"""The hooks of .pre-commit-hooks.yaml run as pre-commit would run them (the entry as a
command, in the repository, staged files in the index)."""

from __future__ import annotations

import re
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


@pytest.mark.parametrize("tamper", [False, True])
def test_verify_hook_on_staged_sops_files(tmp_path: Path, age: AgeKey, tamper: bool) -> None:
    repo = new_repo(tmp_path / "r")
    path = sops_encrypt(repo, "s.sops.yaml", "kind: Secret\nstringData:\n  a: b1b2b3b4\n",
                        age=[age.recipient], extra=("--encrypted-regex", "^stringData$"))
    if tamper:
        path.write_text(path.read_text().replace(",tag:", ",tog:", 1))
    hook = _hooks()["sopskit-verify"]
    assert re.search(hook["files"], "clusters/x/s.sops.yaml")
    assert not re.search(hook["files"], "clusters/x/deploy.yaml")
    for config in (".sops.yaml", "clusters/.sops.yaml", ".sops.yml"):  # sops' config
        assert not re.search(hook["files"], config), config
    res = run_cli(*_entry(hook), "s.sops.yaml", cwd=repo)
    assert res.code == (1 if tamper else 0), res.stdout + res.stderr
