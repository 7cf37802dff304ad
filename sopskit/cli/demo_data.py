"""The embedded example of `sopskit demo`: a small Flux repository's secrets (fake values)."""

from __future__ import annotations

MANIFEST = """\
apiVersion: v1
kind: Secret
metadata:
  name: db-credentials
  namespace: {namespace}
type: Opaque
stringData:
  username: payments
  password: {password}
"""

# `flux bootstrap` writes gotk-sync.yaml; decryption is added for the cluster's own
# secrets (clusters/<name>/*.sops.yaml), which the flux-system Kustomization applies.
GOTK_SYNC = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m
  url: ssh://git@github.com/example/fleet
  ref: {{{ref}}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m
  path: ./clusters/{cluster}
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  decryption:
    provider: sops
    secretRef:
      name: sops-age
"""

FLUX_KS = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: flux-system
spec:
  interval: 10m
  path: {path}
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  decryption:
    provider: sops
    secretRef:
      name: sops-age
"""

# The delivery mistake the demo shows: production's core Kustomization loses `decryption`.
DROP_DECRYPTION = ("clusters/production/core.yaml",
                   "  decryption:\n    provider: sops\n    secretRef:\n      name: sops-age\n")

FILES = {
    "clusters/sandbox/db-credentials.sops.yaml":
        MANIFEST.format(namespace="payments", password="demo-sandbox-Pa55w0rd"),  # noqa: S106
    "clusters/production/db-credentials.sops.yaml":
        MANIFEST.format(namespace="payments", password="demo-production-Pa55w0rd"),  # noqa: S106
    "core/cert-manager/cloudflare-token.sops.yaml": """\
apiVersion: v1
kind: Secret
metadata:
  name: cloudflare-api-token
  namespace: cert-manager
stringData:
  api-token: demo-cloudflare-token-0123456789
""",
    "apps/payments/app.env": "DATABASE_URL=postgres://payments:demo-Pa55w0rd@db:5432/payments\n"
                             "LOG_LEVEL=info\n",
    "apps/payments/config.json": '{\n  "api_token": "demo-token-0123456789",\n'
                                 '  "replicas": 3,\n  "debug": false\n}\n',
    "apps/payments/kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: payments
resources:
  - deployment.yaml
secretGenerator:               # Flux decrypts generator sources too
  - name: payments-env
    envs: [app.env]
  - name: payments-config
    files: [config.json]
""",
    "apps/payments/deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments
spec:
  selector: {matchLabels: {app: payments}}
  template:
    metadata: {labels: {app: payments}}
    spec:
      containers:
        - name: payments
          image: ghcr.io/example/payments:1.4.2
          envFrom: [{secretRef: {name: payments-env}}]
""",
    "core/kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - cert-manager/cloudflare-token.sops.yaml
""",
    **{f"clusters/{cluster}/flux-system/{name}": text.format(cluster=cluster, ref=ref)
       for cluster, ref in (("sandbox", "branch: main"), ("production", 'semver: ">=1.0.0"'))
       for name, text in (("gotk-sync.yaml", GOTK_SYNC),
                          ("kustomization.yaml", "resources: [gotk-sync.yaml]\n"))},
    **{f"clusters/{cluster}/{name}.yaml": FLUX_KS.format(name=name, path=path)
       for cluster, paths in (("sandbox", (("core", "./core"), ("apps", "./apps/payments"))),
                              ("production", (("core", "./core"),)))
       for name, path in paths},
}

# Planted by the demo to show the audit: a Helm values file with a plaintext password.
PLANTED = ("apps/payments/values.yaml",
           "replicaCount: 2\npostgresql:\n  auth:\n    username: payments\n"
           "    password: q7Rk2vXp9LmZ4sTw8YbN3cJd\n")

# What the demo writes into keys/registry.yaml after `sopskit init` (the rules of
# keys-example/registry.yaml): the keys section is filled by `keys generate` / `keys add`.
REGISTRY_RULES = """\
clusters:
  sandbox: {description: "tracks main"}
  production: {description: "tracks release tags"}
keys: {}
rules:                                     # first match wins, top to bottom
  - path: clusters/production/**
    clusters: [production]
  - path: clusters/sandbox/**
    clusters: [sandbox]
  - path: "apps/*/config.json"            # app settings: every value encrypted
    clusters: [sandbox, production]
    encrypted_regex: null
  - path: "{core,services,apps}/**"       # bases go to every cluster that may include them
    clusters: [sandbox, production]        # (dotenv and INI files: every value encrypted)
"""
