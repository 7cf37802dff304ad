"""Decrypt every value of a document and check its MAC (sops.go: Tree.Decrypt,
cmd/sops/common: DecryptTree).

SHA-512 over the Go rendering (`sops.ToBytes`) of every non-comment leaf in walk order
(only encrypted ones with `mac_only_encrypted`, after 32 init bytes), uppercase hex,
compared with the stored MAC decrypted with `lastmodified` (RFC 3339) as AAD.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from sopskit.errors import VerificationError
from sopskit.sopsfile.cipher import CommentText, DecryptFailed, ValueCipher, aad
from sopskit.sopsfile.document import Leaf, SopsDocument
from sopskit.sopsfile.encvalue import EncValue, MalformedValue, looks_encrypted
from sopskit.sopsfile.gorender import to_bytes
from sopskit.sopsfile.metadata import rfc3339_ok
from sopskit.sopsfile.tree import Comment, Scalar, ScalarValue

# sops.go: MACOnlyEncryptedInitialization = sha256("sops")
MAC_ONLY_ENCRYPTED_INIT = hashlib.sha256(b"sops").digest()


def plain_leaves(doc: SopsDocument, cipher: ValueCipher
                 ) -> Iterator[tuple[Leaf, Scalar | Comment, ScalarValue]]:
    """(leaf, tree object, plaintext) in walk order; raises VerificationError("decrypt")."""
    for leaf, obj in doc.walk():
        value = leaf.value
        if not leaf.encrypted or not isinstance(value, str):
            yield leaf, obj, value
            continue
        try:
            plain = cipher.decrypt(value, aad(leaf.path))
        except (DecryptFailed, MalformedValue) as exc:
            if leaf.is_comment:  # sops: "Assume the comment was not encrypted"
                yield leaf, obj, value
                continue
            raise VerificationError(
                f"value cannot be decrypted ({exc}): changed, moved from another key, or "
                "encrypted with another data key", check="decrypt", path=doc.path,
                line=leaf.line, key_path=leaf.key_path) from None
        if leaf.is_comment and not looks_encrypted(value):
            plain = value
        yield leaf, obj, plain


def compute_mac(doc: SopsDocument, cipher: ValueCipher) -> str:
    h = hashlib.sha512()
    only_encrypted = doc.metadata.mac_only_encrypted
    if only_encrypted:
        h.update(MAC_ONLY_ENCRYPTED_INIT)
    for leaf, _, plain in plain_leaves(doc, cipher):
        if leaf.is_comment or (only_encrypted and not leaf.encrypted):
            continue
        if isinstance(plain, CommentText):
            # sops 3.11 Tree.Decrypt hashes only values that are not a Comment *after*
            # decryption; its YAML store writes list comments as items of type `comment`.
            continue
        h.update(to_bytes(plain))
    return h.hexdigest().upper()


def mac_aad(lastmodified: str) -> bytes:
    """time.Parse(RFC3339) then Format(RFC3339): seconds precision, `Z` for offset 0."""
    text = lastmodified.strip()
    head, dot, rest = text.partition(".")
    if dot:
        text = head + rest.lstrip("0123456789")
    text = text[:10] + "T" + text[11:]
    if text.endswith(("z", "+00:00", "-00:00")):
        text = text[:-1] if text.endswith("z") else text[:-6]
        text += "Z"
    return text.encode()


def stored_mac(doc: SopsDocument, cipher: ValueCipher) -> str:
    meta = doc.metadata
    fail = VerificationError("cannot decrypt the MAC: lastmodified or the MAC was changed, "
                             "or the data key is wrong", check="mac", path=doc.path,
                             key_path="sops.mac", line=doc.metadata_line)
    if not rfc3339_ok(meta.lastmodified):
        raise fail
    try:
        raw = cipher.decrypt_raw(EncValue.parse(meta.mac), mac_aad(meta.lastmodified))
    except (DecryptFailed, MalformedValue):
        raise fail from None
    return raw.decode("ascii", "replace")


def cipher_for(doc: SopsDocument, data_key: bytes) -> ValueCipher:
    try:
        return ValueCipher(data_key)
    except DecryptFailed as exc:
        raise VerificationError(str(exc), check="decrypt", path=doc.path) from None


def check_mac(doc: SopsDocument, data_key: bytes) -> None:
    """Raise VerificationError (check `decrypt`, `mac-missing` or `mac`) unless all is well."""
    cipher = cipher_for(doc, data_key)
    computed = compute_mac(doc, cipher)
    if not doc.metadata.mac:
        raise VerificationError("the file has no MAC", check="mac-missing", path=doc.path,
                                key_path="sops.mac", line=doc.metadata_line)
    if stored_mac(doc, cipher) != computed:
        raise VerificationError("MAC mismatch: values were changed, reordered, added or "
                                "removed after sops wrote the file", check="mac",
                                path=doc.path, key_path="sops.mac", line=doc.metadata_line)
