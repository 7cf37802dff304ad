"""The Flux model of a repository and the delivery check (`sopskit flux check`).

Clusters and the Flux Kustomizations each reaches (`discover`), what each applies as
kustomize-controller builds it (`kustomize`, `patching`), which revision each cluster
reconciles (`tracking`, `semver`), the decryption Secrets the repository commits
(`committed_secrets`; `decryption_secret` builds one for `flux secret`) and the
`delivery` rules (`delivery`), run by `check.flux_check` and rendered by `report`.
"""
