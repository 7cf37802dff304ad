"""Integrity with a key: when an identity opens a sops file, every value is decrypted and
the MAC recomputed (sopsfile.verify). Key-less structure checks run in `scan` for every
file; this adds only what needs the data key."""

from __future__ import annotations

from collections.abc import Iterator

from sopskit.audit.detectors import sopsfiles
from sopskit.audit.detectors.source import Hit
from sopskit.audit.finding import Finding
from sopskit.audit.scan import finding
from sopskit.errors import NoIdentityError, SopskitError
from sopskit.identity.model import Identities
from sopskit.sopsfile.datakey import recover_data_key

KEYED_RULES = frozenset(("sops-mac-mismatch", "sops-decrypt-failed"))


def with_key(path: str, data: bytes, identities: Identities) -> tuple[bool, list[Finding]]:
    """(whether the MAC was checked, findings of the checks that need the data key)."""
    parsed = sopsfiles.parse_candidate(data, path)
    if parsed is None or parsed.document is None:
        return False, []
    try:
        key = recover_data_key(parsed.document.metadata, identities, path=path)
    except (NoIdentityError, SopskitError):
        return False, []
    return True, list(_keyed(path, sopsfiles.check(parsed, key)))


def _keyed(path: str, hits: Iterator[Hit]) -> Iterator[Finding]:
    for hit in hits:
        if hit.rule in KEYED_RULES:
            yield finding(path, hit)
