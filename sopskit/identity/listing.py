"""What `sopskit identity list` shows: each identity's public part and source, and the
registry keys the user can therefore decrypt. Never a secret."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from sopskit.gpg import secret_fingerprints
from sopskit.identity.model import Identities
from sopskit.identity.registry_link import RegistryKeys


@dataclass(frozen=True)
class Listed:
    name: str | None
    recipient: str
    kind: str
    source: str


@dataclass(frozen=True)
class Listing:
    identities: tuple[Listed, ...]
    gnupghome: str | None
    sources: tuple[str, ...]
    notes: tuple[str, ...]
    registry: str | None  # the registry file compared with, if any
    decryptable: tuple[str, ...]  # registry key names whose private key is available
    missing: tuple[str, ...]  # registry key names whose private key is not

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def build_listing(ids: Identities, registry: RegistryKeys | None,
                  env: Mapping[str, str] = os.environ) -> Listing:
    """The listing of `ids` compared with `registry` (PGP keys: gpg --list-secret-keys)."""
    listed = tuple(Listed(i.name, i.recipient, i.kind, i.source) for i in ids.age)
    have: set[str] = set(ids.age_recipients())
    if ids.gnupghome is not None and registry is not None and any(
            r.type == "pgp" for r in registry.keys.values()):
        have |= secret_fingerprints(ids.gnupghome)
    keys = registry.keys if registry else {}
    can = tuple(sorted(n for n, r in keys.items() if r.id in have))
    cannot = tuple(sorted(n for n in keys if n not in can))
    notes = ids.notes
    if ids.pq:  # sopskit does not derive their public part (no ML-KEM in pyrage)
        notes = (*notes, f"{len(ids.pq)} post-quantum age identit"
                 f"{'y' if len(ids.pq) == 1 else 'ies'} (AGE-SECRET-KEY-PQ-1...): passed to "
                 "sops, not usable by the native engine")
    return Listing(listed, str(ids.gnupghome) if ids.gnupghome else None, ids.sources,
                   notes, str(registry.path) if registry else None, can, cannot)
