"""Private keys: PEM (RSA/EC/DSA/OpenSSH/PKCS#8, encrypted too), PGP secret key blocks,
PuTTY key files and age identities (X25519 and post-quantum), also when base64-encoded
(a Kubernetes `data:` value, a ConfigMap, a JSON field): a private key is as critical
wherever it is written.

A header alone is not a key (code and docs mention headers): PEM and PGP blocks need a body
of base64 after the header (a real newline or an escaped `\\n`, as in JSON), and an age
identity must pass its bech32 checksum, in upper or lower case.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Generator, Iterator

from sopskit.audit.detectors import bech32, needles
from sopskit.audit.detectors.source import Hit, Source
from sopskit.audit.finding import Severity

_NL = r"(?:\r?\n|(?:\\r)?\\n)"  # a newline, or JSON's escaped one
_PEM = re.compile(
    # ED25519/X25519: Talos writes PKCS#8 under these labels (talosctl gen secrets)
    r"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |ANY |ED25519 |X25519 )?PRIVATE KEY)"
    r"-----" + _NL
    + r"((?:[A-Za-z-]+: [^\n\\]*" + _NL + r")*" + _NL + r"?)"  # RFC 1421 headers
    + r"[ \t]*([A-Za-z0-9+/=]{40,})")
_PGP = re.compile(r"-----BEGIN PGP PRIVATE KEY BLOCK-----" + _NL
                  + r"(?:[A-Za-z]+: [^\n\\]*" + _NL + r")*" + _NL + r"[ \t]*([A-Za-z0-9+/=]{40,})")
_PUTTY = re.compile(r"PuTTY-User-Key-File-[23]: ([\w-]+)\r?\n(?:.*\r?\n){1,6}?"
                    r"Private-Lines: \d+\r?\n([A-Za-z0-9+/=]{20,})")
_PUTTY_ENC = re.compile(r"Encryption: (\S+)")
_AGE = re.compile(r"AGE-SECRET-KEY-(?:PQ-)?1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{52,}", re.I)
_AGE_KINDS = {"AGE-SECRET-KEY-": "age X25519 identity",
              "AGE-SECRET-KEY-PQ-": "age post-quantum identity"}
# The base64 of "-----BEGIN " and "AGE-SECRET-KEY-" at each of the three byte alignments,
# with how far back the 4-character group starts.
_B64_NEEDLES = (("LS0tLS1CRUdJTi", 0), ("0tLS0tQkVHSU4g", 2), ("tLS0tLUJFR0lOI", 3),
                ("QUdFLVNFQ1JFVC1LRVkt", 0), ("FHRS1TRUNSRVQtS0VZL", 2),
                ("BR0UtU0VDUkVULUtFWS", 3))
_B64_RUN = re.compile(r"(?:[A-Za-z0-9+/]|\s|\\n)+={0,2}")
_B64_MAX = 64 * 1024
_B64_OVERLAP = 256


# What each detector needs in the text, found in one pass (most files hold none of them).
# The base64 headers: "LS0t" ("----", "tLS0t" holds it too), "RVkt", "S0VZL", "LUtFWS" (the
# end of "KEY-" at each alignment).
_B64_HEADS = ("LS0t", "RVkt", "S0VZL", "LUtFWS")
_OWN = frozenset(("PRIVATE KEY", "PuTTY-User-Key-File", *_B64_HEADS))
needles.register(_OWN)


def detect(src: Source) -> Iterator[Hit]:
    present = needles.present(src)
    if "PRIVATE KEY" in present:
        yield from _pem(src)
        yield from _pgp(src)
    if "PuTTY-User-Key-File" in present:
        yield from _putty(src)
    if "secret-key-" in src.lower:
        yield from _age(src)
    if not present.isdisjoint(_B64_HEADS):
        yield from _base64(src)


def _base64(src: Source) -> Iterator[Hit]:
    """Keys whose text is base64-encoded: decode the run that starts with an encoded
    header and run the same detectors over the result. A header inside a run already
    decoded was seen by that decoding (one stream keeps one alignment): decoding again
    from each of them made a run dense with headers quadratic (minutes for 200 KB)."""
    text = src.text
    starts: set[int] = set()
    for needle, back in _B64_NEEDLES:
        at = text.find(needle)
        while at != -1:
            starts.add(max(at - back, 0))
            at = text.find(needle, at + len(needle))
    decoded_to = -1
    for start in sorted(starts):
        if start >= decoded_to:
            # a header in the last characters of a run cut at _B64_MAX is decoded again
            # from itself: the cut may split it from the body the detectors need
            decoded_to = (yield from _decoded_keys(src, start)) - _B64_OVERLAP


def _decoded_keys(src: Source, start: int) -> Generator[Hit, None, int]:
    """The keys in the base64 run at `start`; returns where the decoded run ends."""
    m = _B64_RUN.match(src.text, start, start + _B64_MAX)
    if m is None:
        return start + 1
    body = m.group(0)
    if "\n" in body and src.text[m.end():m.end() + 1] not in ("", "\r", "\n", '"', "'", ","):
        # the run went on into the next line's key (`machineToken:` is base64 letters up
        # to the colon): that line is not part of it, and the hit must not cover it
        body = body[:body.rfind("\n")]
    end = start + len(body)
    run = re.sub(r"\s|\\n", "", body)
    try:
        raw = base64.b64decode(run[: len(run) // 4 * 4])
    except (binascii.Error, ValueError):
        return m.end()
    inner = Source(src.path, raw.decode("utf-8", "replace"))
    line = src.line_of(start)
    for hit in (*_pem(inner), *_pgp(inner), *_age(inner)):
        # The secret is the text as written, so that a detector that saw the same value
        # (a kubeconfig's client-key-data) folds with this hit.
        yield Hit(hit.rule, line, run, f"{hit.detail} (base64-encoded)", hit.severity,
                  last_line=src.line_of(end))
    return end


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
        decoded = bech32.decode(m.group(0))
        if decoded is None or decoded[0] not in _AGE_KINDS or len(decoded[1]) < 32:
            continue  # a look-alike: wrong checksum or not an age identity
        kind = _AGE_KINDS[decoded[0]]
        if m.group(0) != m.group(0).upper():
            kind += " (lower case)"
        yield Hit("age-secret-key", src.line_of(m.start()), m.group(0).upper(), kind)
