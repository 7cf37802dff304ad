"""A generated GitOps-shaped repository with a truth file: every secret case and every
decoy of the detector tables placed under Flux-like paths (clusters/<cluster>/apps/<app>/),
real sops files (the real sops binary), and ordinary manifests around them.

`truth.json` maps each path to the rules that must fire there (an empty list: a decoy or a
clean file). It names rules and paths only, never values.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.audit import fakes
from tests.audit.repos import commit, new_repo, sops_encrypt, write
from tests.audit.test_detectors import DECOYS, SECRETS
from tests.helpers import AgeKey

CLUSTERS = ("sandbox", "production")
NOISE = {
    "kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                          "resources:\n  - helm-release.yaml\n",
    "helm-release.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
                         "metadata:\n  name: app\nspec:\n  chart:\n    spec:\n      chart: app\n"
                         "      version: 1.2.3\n  valuesFrom:\n    - kind: Secret\n"
                         "      name: app-values\n  values:\n    image:\n      tag: v1.0.0\n"
                         "    auth:\n      existingSecret: app-secret\n",
}


def _slug(case: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in case.lower()).strip("-")


def build(root: Path, keys: dict[str, str], age: AgeKey) -> tuple[Path, dict[str, list[str]]]:
    repo = new_repo(root)
    truth: dict[str, list[str]] = {}
    for i, (case, make) in enumerate(SECRETS.items()):
        name, content, rule, _ = make(keys)
        path = f"clusters/{CLUSTERS[i % 2]}/apps/{_slug(case)}/{name}"
        write(repo, path, content)
        truth[path] = [rule]
    for i, (case, decoy) in enumerate(DECOYS.items()):
        name, content = decoy(keys)
        path = f"clusters/{CLUSTERS[i % 2]}/infra/{_slug(case)}/{name}"
        write(repo, path, content)
        truth[path] = []
    for app in ("web", "db", "queue"):
        for name, content in NOISE.items():
            path = f"core/{app}/{name}"
            write(repo, path, content)
            truth[path] = []
        path = f"core/{app}/secret.sops.yaml"
        sops_encrypt(repo, path, f"kind: Secret\nstringData:\n  token: {fakes.password()}\n",
                     age=[age.recipient], extra=("--encrypted-regex", "^(data|stringData)$"))
        truth[path] = []
    sops_encrypt(repo, "core/db/app.sops.env", f"DB_PASSWORD={fakes.password()}\n",
                 age=[age.recipient])
    truth["core/db/app.sops.env"] = []
    write(repo, "core/db/forgotten.sops.env", f"DB_PASSWORD={fakes.password()}\n")
    truth["core/db/forgotten.sops.env"] = ["unencrypted-file", "generic-secret"]
    write(repo, "truth.json", json.dumps(truth, indent=1, sort_keys=True))
    truth["truth.json"] = []
    commit(repo)
    return repo, truth
