"""Reviewing changes to sops files: `sopskit diff` and the git drivers built on it."""
