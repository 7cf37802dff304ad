"""Shamir secret sharing over GF(2^8) as sops uses it (shamir/shamir.go, a fork of Vault's).

Field polynomial x^8+x^4+x^3+x+1 (0x11B); a share is the 32 y-bytes followed by its x byte
(group index + 1); `combine` is Lagrange interpolation at x = 0 over the given shares.
"""

from __future__ import annotations


def _tables() -> tuple[list[int], list[int]]:
    exp, log = [0] * 512, [0] * 256
    x = 1
    for i in range(255):
        exp[i] = x
        log[x] = i
        x ^= (x << 1) ^ (0x11B if x & 0x80 else 0)  # multiply by the generator 3
        x &= 0xFF
    for i in range(255, 512):
        exp[i] = exp[i - 255]
    return exp, log


_EXP, _LOG = _tables()


def mult(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    return _EXP[_LOG[a] + _LOG[b]]


def div(a: int, b: int) -> int:
    if b == 0:
        raise ZeroDivisionError("division by zero in GF(2^8)")
    if a == 0:
        return 0
    return _EXP[(_LOG[a] - _LOG[b]) % 255]


class ShamirError(ValueError):
    pass


def combine(shares: list[bytes]) -> bytes:
    """The secret from at least `threshold` shares (shamir.Combine)."""
    if len(shares) < 2:
        raise ShamirError("less than two parts cannot be used to reconstruct the secret")
    size = len(shares[0])
    if size < 2 or any(len(s) != size for s in shares):
        raise ShamirError("all parts must be the same length and at least two bytes")
    xs = [s[-1] for s in shares]
    if len(set(xs)) != len(xs):
        raise ShamirError("duplicate part detected")
    secret = bytearray(size - 1)
    for idx in range(size - 1):
        value = 0
        for i, xi in enumerate(xs):
            basis = 1
            for j, xj in enumerate(xs):
                if i != j:
                    basis = mult(basis, div(xj, xi ^ xj))  # (0 - xj) / (xi - xj) in GF(2^8)
            value ^= mult(shares[i][idx], basis)
        secret[idx] = value
    return bytes(secret)
