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

# configMapGenerator sources the vector left out (it keeps data files, not scripts): without
# them Flux would fail those Kustomizations, and `flux-path-missing` says so.
LEFT_OUT = ("cluster/apps/media/scripts/radarr-pushover/notify.sh",
            "cluster/apps/media/scripts/sonarr-pushover/notify.sh",
            "cluster/apps/monitoring/uptimerobot-heartbeat/uptimerobot-heartbeat.sh",
            "cluster/apps/networking/cloudflare-ddns/cloudflare-ddns.sh",
            "cluster/apps/networking/ingress-nginx/cloudflare-proxied-networks.txt",
            "cluster/core/rook-ceph/rook-direct-mount/backup.sh")


def restore_left_out(repo: Path) -> None:
    for rel in LEFT_OUT:
        (repo / rel).write_text("# stands for a file the vector does not keep\n")


def test_home_ops_has_no_findings(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "home-ops")
    shutil.copytree(REAL_WORLD, repo, dirs_exist_ok=True)
    restore_left_out(repo)
    commit(repo)
    res = run_cli("--repo", repo, "audit", "--format", "json", "--fail-on", "low")
    assert res.code == 0, res.stdout
    summary = json.loads(res.stdout)["summary"]
    assert summary["findings"] == 0 and summary["files_scanned"] == 463 + len(LEFT_OUT)
    collected = collect(AuditOptions(repo=repo))
    assert len(collected.sops_files) == 39
    assert collected.findings == []
