"""Encrypt new values into a stored tree and recompute its MAC, with the file's data key.

What sops does on `set`/`edit` (cmd/sops/common: EncryptTree), restricted to the values
that changed: a new value at an encrypted path is sealed with AES-256-GCM under the data
key, a fresh random 32-byte IV and the AAD of its key path (sops.go: Tree.Encrypt); every
other stored value keeps its ciphertext byte for byte. Then `lastmodified` is set to now
(UTC, RFC 3339 seconds) and the MAC over every plaintext is recomputed and stored
encrypted with `lastmodified` as AAD (sops-format.md 1.5).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, datetime

from sopskit.sopsfile.cipher import ValueCipher, aad
from sopskit.sopsfile.document import SopsDocument
from sopskit.sopsfile.gorender import to_bytes
from sopskit.sopsfile.mac import compute_mac, mac_aad
from sopskit.sopsfile.model import Metadata
from sopskit.sopsfile.rawfile import RawFile
from sopskit.sopsfile.tree import Comment, GoTime, Scalar, ScalarValue

IV_SIZE = 32  # aes/cipher.go: nonceSize


def value_type(value: ScalarValue) -> str:
    """The `type:` sops stores for a plaintext of this Python type (Cipher.Encrypt)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, GoTime):
        return "time"
    if isinstance(value, bytes):
        return "bytes"
    return "str"


def encrypt_value(cipher: ValueCipher, value: ScalarValue, path: tuple[str, ...]) -> str:
    """`ENC[...]` of one value; "" stays "" (sops never encrypts an empty string)."""
    if value == "":
        return ""
    return cipher.encrypt(to_bytes(value), os.urandom(IV_SIZE), aad(path), value_type(value))


def seal(raw: RawFile, metadata: Metadata, data_key: bytes,
         fresh: Iterable[Scalar | Comment], *, now: datetime | None = None) -> bytes:
    """The bytes of `raw` with the plaintext scalars and comments in `fresh` encrypted where
    the file's crypt rule says, and a new `lastmodified` and MAC."""
    cipher = ValueCipher(data_key)
    wanted = {id(s) for s in fresh}
    doc = SopsDocument(raw.path, raw.format, metadata, raw.data)
    for leaf, obj in doc.walk():
        if id(obj) not in wanted or not leaf.encrypted:
            continue
        if isinstance(obj, Scalar):
            obj.value = encrypt_value(cipher, obj.value, leaf.path)
        elif obj.text:  # sops.go Tree.Encrypt: comments at encrypted paths, type `comment`
            obj.text = cipher.encrypt(obj.text.encode("utf-8", "surrogateescape"),
                                      os.urandom(IV_SIZE), aad(leaf.path), "comment")
    mac = compute_mac(SopsDocument(raw.path, raw.format, metadata, raw.data), cipher)
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    raw.set_metadata("lastmodified", stamp)
    raw.set_metadata("mac", cipher.encrypt(mac.encode(), os.urandom(IV_SIZE),
                                           mac_aad(stamp), "str"))
    return raw.emit()
