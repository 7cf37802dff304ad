"""What a parsed sops file is for, when its role changes which rules apply to it."""

from __future__ import annotations

from sopskit.sopsfile.document import SopsDocument


def is_flux_decryption_secret(doc: SopsDocument) -> bool:
    """A Secret holding `*.agekey` / `*.asc` entries (what `sopskit flux secret` writes and
    Flux's kustomize-controller reads): private keys for a cluster, which must stay
    encrypted to the admins only, whatever creation rule covers its path."""
    return any(len(leaf.path) == 2 and leaf.path[0] in ("data", "stringData")
               and leaf.path[1].endswith((".agekey", ".asc")) for leaf in doc.leaves())
