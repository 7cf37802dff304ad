"""A real Flux repository (home-ops, June 2022; tests/vectors/real-world): no plaintext
secret in it (detect-secrets reports 73 false positives there), and each of its 39 sops
files passes every key-less integrity check."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sopskit.audit.run import AuditOptions, collect
from tests.audit.repos import commit, new_repo
from tests.helpers import REAL_WORLD, run_cli


def test_home_ops_has_no_findings(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "home-ops")
    shutil.copytree(REAL_WORLD, repo, dirs_exist_ok=True)
    commit(repo)
    res = run_cli("--repo", repo, "audit", "--format", "json", "--fail-on", "low")
    assert res.code == 0, res.stdout
    summary = json.loads(res.stdout)["summary"]
    assert summary["findings"] == 0 and summary["files_scanned"] == 463
    collected = collect(AuditOptions(repo=repo))
    assert len(collected.sops_files) == 39
    assert collected.findings == []
