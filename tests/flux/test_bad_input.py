"""Bad input never stops `flux check` with a traceback: a file that is not YAML or not UTF-8
is a note naming it, a kustomization cycle ends, a path leaving the repository and an
improper semver range are reported in one line."""

from __future__ import annotations

import json
from pathlib import Path

from sopskit.flux.kustomize import Builder, Ref
from sopskit.flux.loader import Loader
from sopskit.flux.tree import working_tree
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


def test_stacked_diamonds_are_built_once(tmp_path: Path) -> None:
    """Two resources reaching one directory, forty levels deep: each directory is followed
    once (it was followed once per path, 2^40 walks), its missing entry reported once."""
    depth = 40
    files: dict[str, str | bytes] = {
        "clusters/c/flux-system/gotk-sync.yaml": SYNC,
        "clusters/c/apps.yaml": K + "metadata: {name: apps, namespace: flux-system}\n"
            "spec:\n  path: ./l0\n  sourceRef: {kind: GitRepository, name: flux-system}\n",
        f"l{depth}/kustomization.yaml": "resources: [gone.yaml]\n",
    }
    for i in range(depth):
        files[f"l{i}/kustomization.yaml"] = "resources: [a, b]\n"
        for side in "ab":
            files[f"l{i}/{side}/kustomization.yaml"] = f"resources: [../../l{i + 1}]\n"
    root = write(tmp_path, files)
    # three levels from the bottom: 8 paths to l40, one report
    build = Builder(Loader(working_tree(root))).flux_build(
        f"l{depth - 3}", [], Ref("./l", "clusters/c/apps.yaml", 1, "spec.path"))
    assert [(ref.file, ref.value) for ref, _ in build.missing] == [
        (f"l{depth}/kustomization.yaml", "gone.yaml")]
    done = run_cli("--repo", root, "flux", "check", "--format", "json")
    assert done.code == 1, done.stderr
    assert [f["rule"] for f in json.loads(done.stdout)["findings"]] == ["flux-path-missing"]


def test_hand_written_fields_of_any_shape(tmp_path: Path) -> None:
    """A component leaving the repository, fields that are not lists: one finding each,
    never an internal error (exit 4 on `spec.components: [../../..]` before)."""
    root = write(git_repo(tmp_path / "r"), {
        "clusters/c/flux-system/gotk-sync.yaml": SYNC,
        "clusters/c/apps.yaml": K + "metadata: {name: apps, namespace: flux-system}\n"
            "spec:\n  path: ./apps\n  components: [../../../outside]\n"
            "  patches: 5\n  postBuild: {substituteFrom: 5}\n"
            "  sourceRef: {kind: GitRepository, name: flux-system}\n",
        "apps/kustomization.yaml": "resources: [a.yaml, gone.yaml]\npatches: 5\n"
            "secretGenerator:\n  - {name: s, files: [gone.yaml]}\n",
        "apps/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    })
    git(root, "add", "-A")
    git(root, "commit", "-qm", "odd")
    done = run_cli("--repo", root, "audit", "--format", "json")
    assert done.code == 1, done.stderr
    found = [(f["rule"], f["path"], f["message"].split(": ", 1)[1].split(";")[0], f["fingerprint"])
             for f in json.loads(done.stdout)["findings"] if f["category"] == "delivery"]
    assert sorted(f[:3] for f in found) == [
        ("flux-path-missing", "apps/kustomization.yaml",
         "resources entry 'gone.yaml': no such file or directory"),
        ("flux-path-missing", "apps/kustomization.yaml",
         "secretGenerator.files entry 'gone.yaml': no such file"),
        ("flux-path-missing", "clusters/c/apps.yaml",
         "spec.components entry '../../../outside': outside the repository"),
    ]
    # each mistake its own fingerprint: accepting one in the baseline accepts no other
    assert len({f[3] for f in found}) == 3
