"""Moved to `sopskit.flux.decryption_secret`; this name stays until the runbook rework (ops)
rebases onto the move, then goes (BOARD.md)."""

from sopskit.flux.decryption_secret import (
    NAMESPACE,
    SECRET_NAME,
    FluxSecret,
    admin_keys,
    cluster_keys,
    entry_name,
    export_pgp,
    flux_secret,
    manifest,
    write,
)

__all__ = ["NAMESPACE", "SECRET_NAME", "FluxSecret", "admin_keys", "cluster_keys",
           "entry_name", "export_pgp", "flux_secret", "manifest", "write"]
