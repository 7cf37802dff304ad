"""Integrity with a key: when an identity opens a sops file, every value is decrypted and
the MAC recomputed (sopsfile.verify). Key-less structure checks run in `scan` for every
file; this adds only what needs the data key.

A key of yours listed as a recipient must open the data key: an age stanza (or, when no key
opened the file, a PGP stanza) addressed to one of your keys that does not decrypt, or that
decrypts to another data key than the file's, is `sops-recipient-unopenable`. The file
claims you can read it; you cannot (a hand-edited or copied stanza, a rotated key).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sopskit.audit.detectors import sopsfiles
from sopskit.audit.detectors.source import Hit
from sopskit.audit.finding import Finding
from sopskit.audit.scan import finding
from sopskit.errors import NoIdentityError, SopskitError
from sopskit.gpg import secret_fingerprints
from sopskit.identity.model import Identities
from sopskit.recipient import normalise_fingerprint
from sopskit.sopsfile.datakey import (
    DATA_KEY_SIZE,
    open_age_stanza,
    open_pgp_stanza,
    recover_data_key,
)
from sopskit.sopsfile.model import Metadata

KEYED_RULES = frozenset(("sops-mac-mismatch", "sops-decrypt-failed"))


def with_key(path: str, data: bytes, identities: Identities) -> tuple[bool, list[Finding]]:
    """(whether the MAC was checked, findings of the checks that need the data key)."""
    parsed = sopsfiles.parse_candidate(data, path)
    if parsed is None or parsed.document is None:
        return False, []
    meta = parsed.document.metadata
    try:
        key: bytes | None = recover_data_key(meta, identities, path=path)
    except (NoIdentityError, SopskitError):
        key = None
    own = [finding(path, hit) for hit in unopenable_own_stanzas(meta, identities, key)]
    if key is None:
        return False, own
    return True, own + list(_keyed(path, sopsfiles.check(parsed, key)))


def unopenable_own_stanzas(meta: Metadata, identities: Identities,
                           key: bytes | None) -> Iterator[Hit]:
    """Stanzas addressed to one of `identities` that do not give the file's data key.
    With several key groups a stanza wraps a share, so only "does not open" is checked."""
    single = len(meta.key_groups) == 1
    ours = {i.recipient.strip(): i for i in identities.age}
    for group in meta.key_groups:
        for stanza in group.age:
            ident = ours.get(stanza.recipient.strip())
            if ident is None:
                continue
            opened = open_age_stanza(stanza, ident)
            yield from _judge_stanza(f"age recipient {stanza.recipient}", opened, key, single)
        if key is not None or identities.gnupghome is None or not group.pgp:
            continue
        fps = _own_fingerprints(identities.gnupghome)
        for pgp in group.pgp:
            if normalise_fingerprint(pgp.fp) in fps or any(f.endswith(
                    normalise_fingerprint(pgp.fp)) for f in fps):
                opened = open_pgp_stanza(pgp, identities.gnupghome)
                yield from _judge_stanza(f"PGP key {pgp.fp}", opened, key, single)


_FINGERPRINTS: dict[Path, frozenset[str]] = {}


def _own_fingerprints(home: Path) -> frozenset[str]:
    """The secret keys of a GnuPG home, listed once per run (a gpg call each otherwise)."""
    if home not in _FINGERPRINTS:
        _FINGERPRINTS[home] = secret_fingerprints(home)
    return _FINGERPRINTS[home]


def _judge_stanza(who: str, opened: bytes | None, key: bytes | None,
                  single: bool) -> Iterator[Hit]:
    if opened is None:
        yield Hit("sops-recipient-unopenable", None, "",
                  f"{who} is one of your keys but its data-key stanza does not decrypt")
    elif single and (len(opened) != DATA_KEY_SIZE or (key is not None and opened != key)):
        yield Hit("sops-recipient-unopenable", None, "",
                  f"{who} is one of your keys but its stanza holds another data key")


def _keyed(path: str, hits: Iterator[Hit]) -> Iterator[Finding]:
    for hit in hits:
        if hit.rule in KEYED_RULES:
            yield finding(path, hit)
