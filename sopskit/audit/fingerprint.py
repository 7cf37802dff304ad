"""Fingerprints: stable identifiers of a finding that reveal nothing about the secret.

A baseline must recognise the same secret across runs, machines and clones, so the
fingerprint cannot depend on a per-machine key; but reports (SARIF uploaded to code scanning,
JSON artifacts, baseline files in the repository) are read by more people than the secret
should be, so a fast hash would let anyone brute-force a short password offline. We use
scrypt (hashlib.scrypt, the standard library's memory-hard KDF; no hand-rolled crypto) with a
fixed, versioned salt: N=2**12, r=8, p=1 costs 4 MiB and ~10-20 ms per guess per core, which
makes guessing even a 6-character lowercase password (3e8 candidates) take CPU-months, and
rules out GPU/ASIC shortcuts that a plain SHA-256 allows. The rule id is part of the salt so
that one secret found by two rules gives two unrelated fingerprints. Results are cached per
process so a secret repeated in many files costs one hash.

Findings without a secret (recipients, rotation, config, integrity) get a SHA-256 of their
non-secret subject (a recipient, a key name), which needs no protection.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

_SALT = b"sopskit-audit-fingerprint-v1:"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**12, 8, 1


def text_bytes(text: str) -> bytes:
    """The bytes a str stands for: undecodable bytes of the file come back as they were
    (surrogateescape); a lone surrogate that an escape such as `\\udc00` in the file decoded
    to has no UTF-8 form, so the whole text is then encoded with surrogatepass (stable, and
    only such texts, which could not be hashed at all before, change)."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


@lru_cache(maxsize=4096)
def secret_fingerprint(rule_id: str, secret: str) -> str:
    """scrypt(secret) as 32 hex characters; stable everywhere, slow to invert."""
    digest = hashlib.scrypt(text_bytes(secret),
                            salt=_SALT + rule_id.encode(), n=SCRYPT_N, r=SCRYPT_R,
                            p=SCRYPT_P, dklen=16)
    return digest.hex()


def subject_fingerprint(rule_id: str, *parts: str) -> str:
    """SHA-256 of a non-secret subject (recipient, key name, file), 32 hex characters."""
    text = text_bytes("\x00".join((rule_id, *parts)))
    return hashlib.sha256(text).hexdigest()[:32]
