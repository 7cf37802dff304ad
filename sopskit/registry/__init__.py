"""The key registry: keys, clusters, path rules, and the .sops.yaml generated from them."""
