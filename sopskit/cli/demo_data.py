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
resources:
  - deployment.yaml
""",
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
    clusters: [sandbox, production]
  - path: "**/*.env"
    clusters: [sandbox]
    encrypted_regex: null                  # dotenv: encrypt every value
"""
