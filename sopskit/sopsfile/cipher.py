"""AES-256-GCM of single values with the path as AAD (aes/cipher.go: Cipher.Decrypt).

One `ValueCipher` per file reuses the AESGCM object (about twice as fast as one per value).
The 32-byte nonce is what sops uses (`cipher.NewGCMWithNonceSize(.., 32)`).
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sopskit.sopsfile.encvalue import EncValue
from sopskit.sopsfile.tree import ScalarValue
from sopskit.sopsfile.yamlscalar import parse_timestamp

_GO_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_GO_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


class CommentText(str):
    """Plaintext of type `comment` found at a value position (sops 3.11 writes comments
    inside lists that way); sops hashes it as a string and prints it as a comment."""

    __slots__ = ()


class DecryptFailed(ValueError):
    """Wrong key, wrong AAD (value moved), tampered data/iv/tag, or a bad plaintext."""


def aad(path: tuple[str, ...]) -> bytes:
    """sops.go Tree.Decrypt: strings.Join(path, ":") + ":"."""
    return (":".join(path) + ":").encode()


class ValueCipher:
    def __init__(self, data_key: bytes) -> None:
        if len(data_key) != 32:
            raise DecryptFailed(f"the data key is {len(data_key)} bytes, sops uses 32")
        self._gcm = AESGCM(data_key)

    def decrypt_raw(self, enc: EncValue, additional: bytes) -> bytes:
        try:
            return self._gcm.decrypt(enc.iv, enc.data + enc.tag, additional)
        except InvalidTag:
            raise DecryptFailed("authentication failed") from None

    def decrypt(self, text: str, additional: bytes) -> ScalarValue:
        """The typed plaintext of one `ENC[...]` value ("" stays "": sops never encrypts it)."""
        if text == "":
            return ""
        enc = EncValue.parse(text)
        return typed(enc.type, self.decrypt_raw(enc, additional))

    def encrypt(self, plaintext: bytes, iv: bytes, additional: bytes, kind: str) -> str:
        sealed = self._gcm.encrypt(iv, plaintext, additional)
        return EncValue(sealed[:-16], iv, sealed[-16:], kind).format()


def typed(kind: str, raw: bytes) -> ScalarValue:
    """Cipher.Decrypt's conversion of the plaintext bytes by `type`."""
    if kind == "bytes":
        return raw
    text = raw.decode("utf-8", "surrogateescape")
    if kind == "comment":
        return CommentText(text)
    if kind == "str":
        return text
    try:
        return _convert(kind, text)
    except ValueError:
        raise DecryptFailed(f"plaintext is not a valid {kind}") from None


def _convert(kind: str, text: str) -> ScalarValue:
    if kind == "int":
        if not text.lstrip("+-").isdigit() or not text.isascii():
            raise ValueError(kind)
        return int(text)
    if kind == "float":
        if "_" in text:
            raise ValueError(kind)
        return float(text)
    if kind == "bool":
        if text in _GO_TRUE:
            return True
        if text in _GO_FALSE:
            return False
        raise ValueError(kind)
    if kind == "time":
        stamp = parse_timestamp(text)
        if stamp is None or "T" not in text:
            raise ValueError(kind)
        return stamp
    raise ValueError(kind)
