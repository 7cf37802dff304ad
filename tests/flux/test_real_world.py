"""The real-world vector (onedr0p/home-ops, 2022-06; WTFPL, see its LICENSE): one cluster
bootstrapped at cluster/base, its Flux Kustomization tree, and no delivery finding once the
files the vector leaves out are back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.audit.repos import commit, new_repo
from tests.audit.test_real_world import restore_left_out
from tests.helpers import REAL_WORLD, run_cli


def test_home_ops_tree_and_no_false_findings(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "home-ops")
    shutil.copytree(REAL_WORLD, repo, dirs_exist_ok=True)
    restore_left_out(repo)
    commit(repo)
    done = run_cli("--repo", repo, "flux", "check", "--format", "json")
    assert done.code == 0, done.stdout[-2000:]
    report = json.loads(done.stdout)
    assert report["findings"] == []
    (cluster,) = report["clusters"]
    assert cluster["entry"] == "cluster/base" and cluster["source"]["branch"] == "main"
    nodes = {k["name"]: k for k in cluster["kustomizations"]}
    # crds-rook-ceph is commented out of cluster/crds: nothing applies it
    assert set(nodes) == {"flux-system", "apps", "charts", "config", "core", "crds",
                          "crds-external-secrets", "crds-kube-prometheus-stack",
                          "crds-kyverno"}
    assert nodes["config"]["sops_files"] == ["cluster/config/cluster-secrets.sops.yaml"]
    assert nodes["apps"]["decryption"] == {"provider": "sops", "secret": "sops-age"}
    assert sum(len(k["sops_files"]) for k in nodes.values()) == 25
