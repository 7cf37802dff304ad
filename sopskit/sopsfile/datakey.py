"""Recover a file's 32-byte data key from its metadata with the identities we were given.

age (X25519 and ssh recipients) through pyrage, in process; PGP through gpg with the
identities' GNUPGHOME, as sops does (pgp/keysource.go), by way of sopskit.gpg, the one gpg
adapter (python-gnupg with an explicit environment and a watchdog timeout). Key groups
combine Shamir shares (sops.go: GetDataKeyWithKeyServices); keys are tried age first, then
PGP (default decryption order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyrage

from sopskit import gpg
from sopskit.errors import BinaryError, NoIdentityError
from sopskit.identity.model import AgeIdentity, Identities
from sopskit.sopsfile import shamir
from sopskit.sopsfile.model import AgeStanza, KeyGroup, Metadata, PgpStanza

DATA_KEY_SIZE = 32
PQ_RECIPIENT_PREFIX = "age1pq1"  # ML-KEM-768 + X25519 (sops >= 3.11): no pyrage support
_IDENTITY_CACHE: dict[tuple[str, str], Any] = {}


def _pyrage_identity(ident: AgeIdentity) -> Any:
    """Parsed pyrage identities, cached across files (parsing costs more than a decrypt)."""
    key = (ident.kind, ident.secret)
    cached = _IDENTITY_CACHE.get(key)
    if cached is None:
        if ident.kind == "ssh":
            cached = pyrage.ssh.Identity.from_buffer(ident.secret.encode())
        else:
            cached = pyrage.x25519.Identity.from_str(ident.secret.strip())
        if len(_IDENTITY_CACHE) > 256:
            _IDENTITY_CACHE.clear()
        _IDENTITY_CACHE[key] = cached
    return cached


@dataclass
class _Attempts:
    tried: list[str] = field(default_factory=list)
    failed_groups: list[str] = field(default_factory=list)


def _age_unwrap(group: KeyGroup, identities: Identities, attempts: _Attempts) -> bytes | None:
    if not identities.age or not group.age:
        return None
    ours = {i.recipient.strip(): i for i in identities.age}
    for stanza in group.age:
        attempts.tried.append(f"age:{stanza.recipient}")
        match = ours.get(stanza.recipient.strip())
        # An exact recipient match is the common case; otherwise try every identity as sops
        # does (recipients may be stored in another spelling, e.g. ssh key comments).
        candidates = [match] if match else list(identities.age)
        try:
            return bytes(pyrage.decrypt(stanza.enc.encode(), [_pyrage_identity(c)
                                                               for c in candidates]))
        except (pyrage.DecryptError, pyrage.IdentityError, ValueError, TypeError):
            continue
    return None


def _pgp_unwrap(group: KeyGroup, identities: Identities, attempts: _Attempts) -> bytes | None:
    home = identities.gnupghome
    if home is None or not group.pgp:
        return None
    for stanza in group.pgp:
        attempts.tried.append(f"pgp:{stanza.fp}")
        key = open_pgp_stanza(stanza, home)
        if key is not None:
            return key
    return None


def open_pgp_stanza(stanza: PgpStanza, home: Path) -> bytes | None:
    """What one PGP stanza wraps (data key or share), or None when gpg cannot open it."""
    try:
        return gpg.decrypt(home, stanza.enc.encode())
    except BinaryError:  # gpg missing, or stopped by the adapter's timeout
        return None


def open_age_stanza(stanza: AgeStanza, identity: AgeIdentity) -> bytes | None:
    """What one age stanza wraps for this identity alone, or None when it does not open."""
    try:
        return bytes(pyrage.decrypt(stanza.enc.encode(), [_pyrage_identity(identity)]))
    except (pyrage.DecryptError, pyrage.IdentityError, ValueError, TypeError):
        return None


def _unwrap_group(group: KeyGroup, identities: Identities, attempts: _Attempts) -> bytes | None:
    return (_age_unwrap(group, identities, attempts)
            or _pgp_unwrap(group, identities, attempts))


def recover_data_key(metadata: Metadata, identities: Identities, *, path: str) -> bytes:
    """The data key, or NoIdentityError naming the recipients tried (public parts only)."""
    attempts = _Attempts()
    groups = metadata.key_groups
    if len(groups) == 1:
        key = _unwrap_group(groups[0], identities, attempts)
        if key is not None and len(key) == DATA_KEY_SIZE:
            return key
        raise _no_identity(metadata, attempts, identities, path)
    shares: list[bytes] = []
    for index, group in enumerate(groups):  # sops tries every group, in order
        share = _unwrap_group(group, identities, attempts)
        if share is None:
            attempts.failed_groups.append(str(index))
        else:
            shares.append(share)
    if len(shares) < metadata.threshold:
        raise _no_identity(metadata, attempts, identities, path)
    try:
        key = shamir.combine(shares)
    except shamir.ShamirError as exc:
        raise NoIdentityError(f"cannot combine the key-group shares: {exc}", path=path) from None
    if len(key) != DATA_KEY_SIZE:
        raise NoIdentityError("the key-group shares do not combine to a 32-byte key", path=path)
    return key


def _no_identity(metadata: Metadata, attempts: _Attempts, identities: Identities,
                 path: str) -> NoIdentityError:
    recipients = ", ".join(sorted(map(str, metadata.recipients))) or "none"
    msg = (f"no key you have can recover the data key. The file is encrypted to: {recipients}."
           f" Keys found: {identities.held()}")
    if attempts.failed_groups:
        msg += (f"; key groups without a usable key: {', '.join(attempts.failed_groups)} "
                f"(need {metadata.threshold} of {len(metadata.key_groups)})")
    if any(r.type == "age" and r.id.startswith(PQ_RECIPIENT_PREFIX)
           for r in metadata.recipients):
        msg += (". Post-quantum age recipients (age1pq1...) are opened by sops only: "
                "sopskit's native engine (pyrage) cannot unwrap them, so `decrypt` hands "
                "such a file and your AGE-SECRET-KEY-PQ-1 keys to sops, and `verify` cannot "
                "check its MAC itself")
    return NoIdentityError(msg + ". Give a key of one of those recipients with --identity"
                           " FILE or SOPS_AGE_KEY_FILE (or import the PGP key into GNUPGHOME)",
                           path=path)
