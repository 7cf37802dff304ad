"""docs/ci.md works as written: every `sopskit` command line of its CI examples runs with the
documented outcome in a real git repository, and its local pre-commit hooks are exactly the
hooks the repository ships (.pre-commit-hooks.yaml) and pass on a clean staged change."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

from tests.helpers import clean_env, git, git_repo

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "ci.md").read_text()


def yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", DOC, flags=re.S)


def shell_env() -> dict[str, str]:
    """The CI shell: sopskit on PATH (this environment's), no key, no keyring."""
    bindir = str(Path(sys.executable).parent)
    return {**clean_env(), "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}


def sopskit_lines() -> list[str]:
    lines = []
    for block in yaml_blocks():
        for line in block.splitlines():
            command = re.sub(r"^\s*(?:- run:|-)\s*", "", line)
            if command.startswith("sopskit "):
                lines.append(command)
    return lines


def clean_repo(tmp_path: Path) -> Path:
    repo = git_repo(tmp_path / "repo")
    (repo / "app.yaml").write_text("replicas: 2\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "init")
    return repo


def test_the_ci_commands_run_as_written(tmp_path: Path) -> None:
    lines = sopskit_lines()
    assert len(lines) >= 4, lines  # the GitHub and GitLab examples
    repo = clean_repo(tmp_path)
    for line in lines:
        done = subprocess.run(["bash", "-c", line], cwd=repo, env=shell_env(),
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, (line, done.stderr)
    assert (repo / "sopskit.sarif").is_file() and (repo / "gl-sopskit.json").is_file()


def test_the_ci_gate_fails_on_a_planted_secret(tmp_path: Path) -> None:
    repo = clean_repo(tmp_path)
    (repo / "config.yaml").write_text("db_password: Sup3rS3cretValue-9f8e7d\n")  # sopskit: allow generic-secret
    git(repo, "add", "-A")
    gate = next(line for line in sopskit_lines() if line == "sopskit audit --fail-on high")
    done = subprocess.run(["bash", "-c", gate], cwd=repo, env=shell_env(),
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 1, done.stdout + done.stderr


def test_the_local_pre_commit_hooks_are_the_shipped_ones_and_run(tmp_path: Path) -> None:
    configs = [YAML(typ="safe").load(b) for b in yaml_blocks() if "repo: local" in b]
    assert len(configs) == 1
    local = {h["id"]: h for h in configs[0]["repos"][0]["hooks"]}
    shipped = {h["id"]: h for h in YAML(typ="safe").load(
        (ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(local) == set(shipped) == {"sopskit-audit", "sopskit-verify"}
    for hook_id, hook in local.items():
        assert hook["entry"] == shipped[hook_id]["entry"]
        assert hook.get("pass_filenames", True) == shipped[hook_id].get("pass_filenames", True)
        assert hook.get("types") == shipped[hook_id].get("types")
    repo = clean_repo(tmp_path)
    (repo / "app.yaml").write_text("replicas: 3\n")
    git(repo, "add", "-A")
    for hook in local.values():  # as pre-commit runs them: entry + the staged file names
        files = [] if hook.get("pass_filenames") is False else ["app.yaml"]
        done = subprocess.run(["bash", "-c", hook["entry"] + " " + " ".join(files)], cwd=repo,
                              env=shell_env(), capture_output=True, text=True, timeout=300,
                              check=False)
        assert done.returncode == 0, (hook["id"], done.stdout, done.stderr)


def test_no_example_installs_from_a_package_index() -> None:
    assert not re.search(r"pip install sopskit(\s|$)", DOC)
    assert "rev: v0.1.0" not in DOC
