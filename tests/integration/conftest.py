"""A scratch repository and user for end-to-end CLI tests: a real git repo, a real age key in
a key file named by SOPS_AGE_KEY_FILE, nothing from the real home."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import AgeKey, Result, age_key, clean_env, git_repo, run_cli


@dataclass
class World:
    repo: Path
    key: AgeKey
    env: dict[str, str]

    def cli(self, *args: str | Path, env: dict[str, str] | None = None) -> Result:
        return run_cli("--repo", self.repo, *args, env=env or self.env, cwd=self.repo)

    def write(self, rel: str, data: str | bytes) -> Path:
        path = self.repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            path.write_text(data)
        else:
            path.write_bytes(data)
        return path


@pytest.fixture
def world(tmp_path: Path) -> World:
    repo = git_repo(tmp_path / "repo")
    key = age_key()
    key_file = tmp_path / "keys.txt"
    key_file.write_text(key.secret + "\n")
    key_file.chmod(0o600)
    return World(repo, key, clean_env({"SOPS_AGE_KEY_FILE": str(key_file)}))
