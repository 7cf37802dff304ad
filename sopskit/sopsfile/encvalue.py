"""The `ENC[AES256_GCM,data:...,iv:...,tag:...,type:...]` value codec (aes/cipher.go).

Parsing is strict where sops' own regex is loose (it has no `$` anchor): base64 must be
standard with padding, the iv 32 bytes, the tag 16 bytes and the type one sops knows.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from dataclasses import dataclass

PREFIX = "ENC[AES256_GCM,"
TYPES = frozenset({"str", "int", "float", "bytes", "bool", "time", "comment"})
IV_SIZE = 32  # aes/cipher.go: nonceSize
TAG_SIZE = 16
_ENC = re.compile(r"^ENC\[AES256_GCM,data:(.*),iv:(.+),tag:(.+),type:(.+)\]\Z", re.S)


class MalformedValue(ValueError):
    """A string that starts like an encrypted value but is not a valid one."""


@dataclass(frozen=True, slots=True)
class EncValue:
    data: bytes
    iv: bytes
    tag: bytes
    type: str

    @classmethod
    def parse(cls, text: str) -> EncValue:
        """Decode one value; raises MalformedValue saying what is wrong (never the value)."""
        return _parse(text)

    def format(self) -> str:
        parts = (base64.b64encode(x).decode() for x in (self.data, self.iv, self.tag))
        data, iv, tag = parts
        return f"ENC[AES256_GCM,data:{data},iv:{iv},tag:{tag},type:{self.type}]"


# Verification parses each value twice (structure, then decryption): keep recent results.
@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> EncValue:
    m = _ENC.match(text)
    if not m:
        raise MalformedValue("not of the form ENC[AES256_GCM,data:...,iv:...,tag:...,type:...]")
    data, iv, tag = (_b64(m[i], name) for i, name in ((1, "data"), (2, "iv"), (3, "tag")))
    if len(iv) != IV_SIZE:
        raise MalformedValue(f"iv is {len(iv)} bytes, expected {IV_SIZE}")
    if len(tag) != TAG_SIZE:
        raise MalformedValue(f"tag is {len(tag)} bytes, expected {TAG_SIZE}")
    if m[4] not in TYPES:
        raise MalformedValue(f"unknown type {m[4][:20]!r}")
    return EncValue(data, iv, tag, m[4])


def looks_encrypted(text: str) -> bool:
    """True for anything sops would try to decrypt as a value (its regex has no anchor)."""
    return text.startswith("ENC[")


def _b64(text: str, name: str) -> bytes:
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        raise MalformedValue(f"{name} is not valid base64") from None
