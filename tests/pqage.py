"""Post-quantum age key pairs for tests (ML-KEM-768 + X25519, as age 1.3 / sops 3.11).

pyrage cannot make them, so this derives them as age does: the identity is the bech32 of
a 32-byte seed; SHAKE256(seed, 96) gives the ML-KEM-768 seed (64 bytes) and the X25519
private key (32 bytes); the recipient is the bech32 of the ML-KEM public key followed by
the X25519 public key. Real sops decrypting what it encrypted to such a recipient with such
an identity is what proves the derivation (tests/identity/test_post_quantum.py).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= _GEN[i] if (top >> i) & 1 else 0
    return chk


def bech32(hrp: str, data: bytes) -> str:
    """BIP 173 bech32 without the 90-character limit (age's encoding)."""
    acc = bits = 0
    words: list[int] = []
    for byte in data:
        acc, bits = (acc << 8) | byte, bits + 8
        while bits >= 5:
            bits -= 5
            words.append((acc >> bits) & 31)
    if bits:
        words.append((acc << (5 - bits)) & 31)
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    pm = _polymod(expanded + words + [0] * 6) ^ 1
    checksum = [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[w] for w in words + checksum)


@dataclass(frozen=True)
class PqKey:
    secret: str  # AGE-SECRET-KEY-PQ-1...
    recipient: str  # age1pq1...


def pq_key() -> PqKey:
    seed = os.urandom(32)
    expanded = hashlib.shake_256(seed).digest(96)
    kem = mlkem.MLKEM768PrivateKey.from_seed_bytes(expanded[:64])
    dh = x25519.X25519PrivateKey.from_private_bytes(expanded[64:])
    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    public = kem.public_key().public_bytes(*raw) + dh.public_key().public_bytes(*raw)
    return PqKey(bech32("age-secret-key-pq-", seed).upper(), bech32("age1pq", public))
