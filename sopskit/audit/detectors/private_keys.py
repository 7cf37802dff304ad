"""Private keys: PEM (RSA/EC/DSA/OpenSSH/PKCS#8, encrypted too), PGP secret key blocks,
PuTTY key files and age identities.

A header alone is not a key (code and docs mention headers): PEM and PGP blocks need a body
of base64 after the header (a real newline or an escaped `\\n`, as in JSON), and an age
identity must pass its bech32 checksum (pyrage parses it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pyrage

from sopskit.audit.detectors.source import Hit, Source
from sopskit.audit.finding import Severity

_NL = r"(?:\r?\n|\\r?\\n)"
_PEM = re.compile(
    r"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |ANY )?PRIVATE KEY)-----" + _NL
    + r"((?:[A-Za-z-]+: [^\n\\]*" + _NL + r")*" + _NL + r"?)"  # RFC 1421 headers
    + r"[ \t]*([A-Za-z0-9+/=]{40,})")
_PGP = re.compile(r"-----BEGIN PGP PRIVATE KEY BLOCK-----" + _NL
                  + r"(?:[A-Za-z]+: [^\n\\]*" + _NL + r")*" + _NL + r"[ \t]*([A-Za-z0-9+/=]{40,})")
_PUTTY = re.compile(r"PuTTY-User-Key-File-[23]: ([\w-]+)\r?\n(?:.*\r?\n){1,6}?"
                    r"Private-Lines: \d+\r?\n([A-Za-z0-9+/=]{20,})")
_PUTTY_ENC = re.compile(r"Encryption: (\S+)")
_AGE = re.compile(r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}")
NEEDLES = ("PRIVATE KEY", "PuTTY-User-Key-File", "AGE-SECRET-KEY-1")


def detect(src: Source) -> Iterator[Hit]:
    text = src.text
    if "PRIVATE KEY" in text:
        yield from _pem(src)
        yield from _pgp(src)
    if "PuTTY-User-Key-File" in text:
        yield from _putty(src)
    if "AGE-SECRET-KEY-1" in text:
        yield from _age(src)


def _pem(src: Source) -> Iterator[Hit]:
    for m in _PEM.finditer(src.text):
        kind = m.group(1)
        encrypted = kind.startswith("ENCRYPTED") or "ENCRYPTED" in m.group(2)
        if kind == "OPENSSH PRIVATE KEY":
            encrypted = _openssh_encrypted(m.group(3))
        detail = f"{kind.lower()}{' (passphrase-protected)' if encrypted else ''}"
        yield Hit("private-key", src.line_of(m.start()), m.group(3), detail,
                  Severity.HIGH if encrypted else None)


def _openssh_encrypted(body_start: str) -> bool:
    """openssh-key-v1: the cipher name follows the magic; `none` means no passphrase."""
    import base64
    import binascii

    try:
        raw = base64.b64decode(body_start[: len(body_start) // 4 * 4])
    except (binascii.Error, ValueError):
        return False
    if not raw.startswith(b"openssh-key-v1\x00") or len(raw) < 19:
        return False
    size = int.from_bytes(raw[15:19], "big")
    return raw[19:19 + size] != b"none"


def _pgp(src: Source) -> Iterator[Hit]:
    for m in _PGP.finditer(src.text):
        yield Hit("pgp-private-key", src.line_of(m.start()), m.group(1), "PGP secret key block")


def _putty(src: Source) -> Iterator[Hit]:
    for m in _PUTTY.finditer(src.text):
        enc = _PUTTY_ENC.search(m.group(0))
        encrypted = enc is not None and enc.group(1) != "none"
        yield Hit("putty-private-key", src.line_of(m.start()), m.group(2),
                  f"PuTTY {m.group(1)} key{' (passphrase-protected)' if encrypted else ''}",
                  Severity.HIGH if encrypted else None)


def _age(src: Source) -> Iterator[Hit]:
    for m in _AGE.finditer(src.text):
        try:
            pyrage.x25519.Identity.from_str(m.group(0))
        except Exception:  # noqa: S112 - pyrage raises its own types; not a valid key
            continue
        yield Hit("age-secret-key", src.line_of(m.start()), m.group(0), "age X25519 identity")
