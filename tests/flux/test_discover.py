"""How clusters and their Kustomization trees are found, on layouts real repositories use:
a FluxInstance's sync path, defaults patched into child Kustomizations by the parent's
`spec.patches` (label selectors included), a bootstrap patched by its own
flux-system/kustomization.yaml, post-build variables in child paths, Flux's generated
kustomization, sources that are not this repository, and Kustomizations nothing applies."""

from __future__ import annotations

from pathlib import Path

import pytest

from sopskit.flux.check import CheckOptions, flux_check
from tests.helpers import age_key, run_sops

K = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"


@pytest.fixture(scope="module")
def sops_secret(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("s") / "secret.yaml"
    path.write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
                    "stringData: {token: not-a-real-token}\n")
    done = run_sops("encrypt", "--age", age_key().recipient, "--encrypted-regex",
                    "^(data|stringData)$", str(path), env={})
    assert done.returncode == 0, done.stderr
    return done.stdout


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
    return root


def check(root: Path) -> tuple[dict[str, dict[str, object]], set[tuple[str, str]]]:
    report = flux_check(CheckOptions(root))
    nodes = {f"{c.cluster.name}:{n.label}": {"path": n.path, "decryption": n.decryption,
                                              "local": n.local, "sops": n.sops_files,
                                              "unresolved": n.unresolved}
             for c in report.clusters for n in c.cluster.nodes}
    return nodes, {(f.rule, f.path) for f in report.findings}


def test_flux_operator_layout_with_defaults_patched_into_children(
        tmp_path: Path, sops_secret: bytes) -> None:
    root = write(tmp_path, {
        # the FluxInstance (here committed) syncs kubernetes/flux; its root Kustomization
        # patches decryption into every child Kustomization not labelled as opted out
        "kubernetes/flux/instance.yaml": "apiVersion: fluxcd.controlplane.io/v1\n"
            "kind: FluxInstance\nmetadata: {name: flux-system, namespace: flux-system}\n"
            "spec:\n  sync: {kind: GitRepository, url: 'https://example.invalid/x', "
            "ref: refs/heads/main, path: kubernetes/flux/cluster}\n"
            # flux-operator users add decryption to the sync Kustomization this way
            "  kustomize:\n    patches:\n      - patch: |\n          - op: add\n"
            "            path: /spec/decryption\n            value: {provider: sops}\n"
            "        target: {kind: Kustomization}\n",
        "kubernetes/flux/cluster/cluster-secrets.sops.yaml": sops_secret,
        "kubernetes/flux/cluster/ks.yaml": K + "metadata: {name: cluster-apps, "
            "namespace: flux-system}\nspec:\n  decryption: {provider: sops}\n"
            "  path: ./kubernetes/apps\n  postBuild: {substitute: {CLUSTER: main}}\n"
            "  sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}\n"
            "  patches:\n    - patch: |-\n        " + K.replace("\n", "\n        ")
            + "metadata: {name: _}\n        spec: {decryption: {provider: sops}}\n"
            "      target: {group: kustomize.toolkit.fluxcd.io, kind: Kustomization, "
            "labelSelector: 'decrypt.example/disabled notin (true)'}\n",
        "kubernetes/apps/db/ks.yaml": K + "metadata: {name: db}\nspec:\n"
            "  path: ./kubernetes/${CLUSTER}/db\n"
            "  sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}\n",
        "kubernetes/apps/plain/ks.yaml": K + "metadata:\n  name: plain\n  labels: "
            "{decrypt.example/disabled: 'true'}\nspec:\n  path: ./kubernetes/main/plain\n"
            "  sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}\n",
        "kubernetes/main/db/kustomization.yaml": "resources: [secret.sops.yaml]\n",
        "kubernetes/main/db/secret.sops.yaml": sops_secret,
        "kubernetes/main/plain/kustomization.yaml": "resources: [secret.sops.yaml]\n",
        "kubernetes/main/plain/secret.sops.yaml": sops_secret,
    })
    nodes, found = check(root)
    sync = nodes["cluster:flux-system/flux-system"]
    assert sync["decryption"] is not None and sync["sops"] == [
        "kubernetes/flux/cluster/cluster-secrets.sops.yaml"]
    assert nodes["cluster:flux-system/db"]["path"] == "kubernetes/main/db"  # ${CLUSTER}
    assert nodes["cluster:flux-system/db"]["decryption"] is not None  # patched in
    assert nodes["cluster:flux-system/plain"]["decryption"] is None  # opted out by label
    assert found == {("flux-decryption-missing", "kubernetes/apps/plain/ks.yaml")}


def test_bootstrap_patched_by_its_own_kustomization(tmp_path: Path, sops_secret: bytes
                                                    ) -> None:
    sync = ("apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: "
            "{name: flux-system, namespace: flux-system}\nspec: {url: x, ref: {branch: main}}\n"
            "---\n" + K + "metadata: {name: flux-system, namespace: flux-system}\n"
            "spec:\n  path: ./clusters/c0\n  sourceRef: {kind: GitRepository, "
            "name: flux-system}\n")
    root = write(tmp_path, {
        "clusters/c0/flux-system/gotk-sync.yaml": sync,
        "clusters/c0/flux-system/kustomization.yaml":
            "resources: [gotk-sync.yaml]\npatches:\n  - patch: |\n      - op: add\n"
            "        path: /spec/decryption\n        value: {provider: sops, secretRef: "
            "{name: sops-gpg}}\n    target: {kind: Kustomization, name: flux-system}\n",
        "clusters/c0/secrets/cluster.sops.yaml": sops_secret,  # generated kustomization
        "clusters/c0/notes/values.yaml": "replicas: 2\n",  # no kind: not a manifest
    })
    nodes, found = check(root)
    assert nodes["c0:flux-system/flux-system"]["decryption"] is not None
    assert nodes["c0:flux-system/flux-system"]["sops"] == ["clusters/c0/secrets/cluster.sops.yaml"]
    assert found == set()


def test_other_sources_remote_resources_and_stale_kustomizations(tmp_path: Path) -> None:
    sync = ("apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: "
            "{name: flux-system, namespace: flux-system}\nspec: {url: x, ref: {tag: v1.0.0}}\n"
            "---\n" + K + "metadata: {name: flux-system, namespace: flux-system}\n"
            "spec:\n  path: ./clusters/prod\n  sourceRef: {kind: GitRepository, "
            "name: flux-system}\n")
    root = write(tmp_path, {
        "clusters/prod/flux-system/gotk-sync.yaml": sync,
        "clusters/prod/flux-system/kustomization.yaml": "resources: [gotk-sync.yaml]\n",
        # a tenant's repository: its path is in that repository, never built here
        "clusters/prod/tenant.yaml": K + "metadata: {name: tenant, namespace: t}\nspec:\n"
            "  path: ./deploy\n  sourceRef: {kind: GitRepository, name: tenant-repo}\n",
        "clusters/prod/infra.yaml": K + "metadata: {name: infra, namespace: flux-system}\n"
            "spec:\n  path: ./infra\n  sourceRef: {kind: GitRepository, name: flux-system}\n",
        "infra/kustomization.yaml": "resources:\n  - https://github.com/example/x//"
            "manifests?ref=v1\n  - ./rbac\n",
        "infra/rbac/kustomization.yaml": "resources: [role.yaml]\n",
        "infra/rbac/role.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n"
            "metadata: {name: r}\n",
        # commented out of its parent's resources: nothing applies it
        "infra/old/ks.yaml": K + "metadata: {name: old, namespace: flux-system}\nspec:\n"
            "  path: ./gone\n  sourceRef: {kind: GitRepository, name: flux-system}\n",
    })
    nodes, found = check(root)
    assert set(nodes) == {"prod:flux-system/flux-system", "prod:t/tenant",
                          "prod:flux-system/infra"}
    assert nodes["prod:t/tenant"]["local"] is False
    assert found == set()  # ./deploy is the tenant's; the URL is not followed


def test_patch_targets_are_go_regular_expressions(tmp_path: Path, sops_secret: bytes) -> None:
    """kustomize matches a target's name with Go's regexp: `[[:alpha:]]+` is a POSIX class
    there (Python's re read a set), and `(a+)+` takes linear time (Python's re backtracked
    for minutes on a long child name)."""
    sync = ("apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: "
            "{name: flux-system, namespace: flux-system}\nspec: {url: x, ref: {branch: main}}\n"
            "---\n" + K + "metadata: {name: flux-system, namespace: flux-system}\n"
            "spec:\n  path: ./clusters/c0\n  sourceRef: {kind: GitRepository, "
            "name: flux-system}\n")

    def parent(name: str) -> str:
        return (K + "metadata: {name: apps, namespace: flux-system}\nspec:\n  path: ./apps\n"
                "  sourceRef: {kind: GitRepository, name: flux-system}\n  patches:\n"
                "    - patch: |\n        - op: add\n          path: /spec/decryption\n"
                "          value: {provider: sops}\n"
                f"      target: {{kind: Kustomization, name: '{name}'}}\n")

    child = (K + "metadata: {{name: '{name}', namespace: flux-system}}\nspec:\n"
             "  path: ./app\n  sourceRef: {{kind: GitRepository, name: flux-system}}\n")
    root = write(tmp_path, {
        "clusters/c0/flux-system/gotk-sync.yaml": sync,
        "clusters/c0/apps.yaml": parent("[[:alpha:]]+"),
        "apps/child.yaml": child.format(name="web"),
        "app/secret.sops.yaml": sops_secret,
    })
    nodes, found = check(root)
    assert nodes["c0:flux-system/web"]["decryption"] is not None
    assert found == set()
    write(root, {"clusters/c0/apps.yaml": parent("(a+)+"),
                 "apps/child.yaml": child.format(name="a" * 40 + "!")})
    nodes, found = check(root)
    assert {rule for rule, _ in found} == {"flux-decryption-missing"}
