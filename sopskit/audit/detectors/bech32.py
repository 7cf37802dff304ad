"""Bech32 (BIP-173) checksum, as age encodes identities: `AGE-SECRET-KEY-1...` (X25519) and
`AGE-SECRET-KEY-PQ-1...` (the post-quantum hybrid of age 1.3). An encoding, not crypto:
the audit only needs to tell a real identity (valid checksum) from a look-alike, in upper or
lower case (age's bech32 accepts either; mixed case is invalid but is the same key once
case-folded, so it is checked case-folded). age does not apply BIP-173's 90-character limit.
"""

from __future__ import annotations

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_INDEX = {c: i for i, c in enumerate(CHARSET)}
_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            if (top >> i) & 1:
                chk ^= _GEN[i]
    return chk


def _expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def decode(text: str) -> tuple[str, bytes] | None:
    """(upper-case human-readable part, payload) of a valid bech32 string, else None."""
    s = text.lower()
    sep = s.rfind("1")
    if sep < 1 or len(s) - sep < 8:
        return None
    hrp, data = s[:sep], s[sep + 1:]
    try:
        values = [_INDEX[c] for c in data]
    except KeyError:
        return None
    if _polymod(_expand(hrp) + values) != 1:
        return None
    payload = _to_bytes(values[:-6])
    return (hrp.upper(), payload) if payload is not None else None


def encode(hrp: str, payload: bytes) -> str:
    """Upper-case bech32 of `payload` (how age prints identities)."""
    values = _to_groups(payload)
    h = hrp.lower()
    mod = _polymod(_expand(h) + values + [0] * 6) ^ 1
    checksum = [(mod >> 5 * (5 - i)) & 31 for i in range(6)]
    return (h + "1" + "".join(CHARSET[v] for v in values + checksum)).upper()


def _regroup(data: list[int], frombits: int, tobits: int) -> tuple[list[int], int, int]:
    acc = bits = 0
    out: list[int] = []
    maxv = (1 << tobits) - 1
    for value in data:
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    return out, acc, bits


def _to_bytes(values: list[int]) -> bytes | None:
    out, acc, bits = _regroup(values, 5, 8)
    if bits >= 5 or (acc << (8 - bits)) & 0xFF:
        return None  # non-zero padding: not a canonical encoding
    return bytes(out)


def _to_groups(payload: bytes) -> list[int]:
    out, acc, bits = _regroup(list(payload), 8, 5)
    if bits:
        out.append((acc << (5 - bits)) & 31)
    return out
