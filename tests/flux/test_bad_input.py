"""Bad input never stops `flux check` with a traceback: a file that is not YAML or not UTF-8
is a note naming it, a kustomization cycle ends, a path leaving the repository and an
improper semver range are reported in one line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.flux.test_discover import K, write
from tests.helpers import git, git_repo, run_cli

SYNC = ("apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: "
        "{name: flux-system, namespace: flux-system}\nspec: {url: x, ref: {semver: '>=1.0 <<2'}}"
        "\n---\n" + K + "metadata: {name: flux-system, namespace: flux-system}\nspec:\n"
        "  path: ./clusters/c\n  sourceRef: {kind: GitRepository, name: flux-system}\n")


def test_bad_files_are_notes_and_findings(tmp_path: Path) -> None:
    root = write(git_repo(tmp_path / "r"), {
        "clusters/c/flux-system/gotk-sync.yaml": SYNC,
        "clusters/c/flux-system/kustomization.yaml": "resources: [gotk-sync.yaml]\n",
        "clusters/c/escape.yaml": K + "metadata: {name: escape, namespace: flux-system}\n"
            "spec:\n  path: ../../etc\n  sourceRef: {kind: GitRepository, name: flux-system}\n",
        "clusters/c/loop.yaml": K + "metadata: {name: loop, namespace: flux-system}\n"
            "spec:\n  path: ./a\n  sourceRef: {kind: GitRepository, name: flux-system}\n",
        "a/kustomization.yaml": "resources: [../b]\n",
        "b/kustomization.yaml": "resources: [../a, broken.yaml]\n",
        "b/broken.yaml": "kind: ConfigMap\nmetadata: {name: [unclosed\n",
        "clusters/c/latin1.yaml": "kind: ConfigMap\nmetadata: {name: caf\xe9}\n".encode("latin-1"),
    })
    git(root, "add", "-A")
    git(root, "commit", "-qm", "bad")
    done = run_cli("--repo", root, "flux", "check", "--format", "json")
    assert done.code == 1, done.stderr
    assert "Traceback" not in done.stderr
    report = json.loads(done.stdout)
    found = {(f["rule"], f["path"]) for f in report["findings"]}
    assert found == {("flux-path-missing", "clusters/c/escape.yaml")}
    text = run_cli("--repo", root, "flux", "check")
    assert "note: b/broken.yaml:" in text.stdout and "invalid YAML" in text.stdout
    assert "note: clusters/c/latin1.yaml: not UTF-8 text" in text.stdout
    assert "improper semver range '>=1.0 <<2'" in text.stdout
    assert "leaves the repository" in text.stdout
