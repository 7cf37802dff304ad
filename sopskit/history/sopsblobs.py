"""Sops documents of historic blobs, each read, parsed and (with a key) opened once.

Values are keyed by (document, key path, occurrence): sops' key paths leave out list
indices (the AAD of `a: [x, y]` is `a:` for both items), so the n-th leaf with the same
path is what names one value from version to version.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sopskit.errors import SopskitError
from sopskit.history import reader
from sopskit.identity.model import Identities
from sopskit.sopsfile.datakey import recover_data_key
from sopskit.sopsfile.document import SopsDocument, detect_format, looks_like_sops, parse
from sopskit.sopsfile.mac import cipher_for, plain_leaves

ValueKey = tuple[int, str, int]
MAX_SIZE = 8 * 1024 * 1024


def label(key: ValueKey) -> str:
    """A value's key path as users read it (`doc 2: ...`, `... [item 2]` when needed)."""
    doc, path, n = key
    shown = path + (f" [item {n + 1}]" if n else "")
    return f"doc {doc + 1}: {shown}" if doc else shown


def encrypted_values(doc: SopsDocument) -> dict[ValueKey, str]:
    """Every encrypted value's stored `ENC[...]` text."""
    out: dict[ValueKey, str] = {}
    seen: dict[tuple[int, str], int] = {}
    for leaf in doc.leaves():
        if leaf.encrypted and not leaf.is_comment and isinstance(leaf.value, str) \
                and leaf.value.startswith("ENC["):
            n = seen.get((leaf.document, leaf.key_path), 0)
            seen[(leaf.document, leaf.key_path)] = n + 1
            out[(leaf.document, leaf.key_path, n)] = leaf.value
    return out


def parse_sops(data: bytes, path: str) -> SopsDocument | None:
    """The sops document in `data`, or None (not a sops file, or unreadable)."""
    fmt = detect_format(path)
    if not looks_like_sops(data, fmt):
        return None
    try:
        return parse(data, path=path, fmt=fmt)
    except SopskitError:
        return None


class Blobs:
    """Blob id -> document / encrypted values / plaintext digests, computed once each."""

    def __init__(self, repo: Path, identities: Identities | None) -> None:
        self.repo, self.identities = repo, identities
        self.data: dict[str, bytes] = {}
        self._docs: dict[str, SopsDocument | None] = {}
        self._values: dict[str, dict[ValueKey, str]] = {}
        self._plain: dict[str, dict[ValueKey, bytes] | None] = {}
        self._keys: dict[tuple[str, ...], bytes | None] = {}  # wrapped keys -> data key

    def load(self, blobs: dict[str, str]) -> None:
        """Read the blobs (id -> a path it had) in batches, keeping only sops files: a long
        history's other blobs never stay in memory."""
        missing = [b for b in blobs if b not in self.data]
        for got in reader.read_batches(self.repo, missing, max_size=MAX_SIZE):
            self.data.update((b, d) for b, d in got.items()
                             if looks_like_sops(d, detect_format(blobs[b])))

    def add(self, name: str, data: bytes) -> None:
        """A document not in git (the working tree's version), under a made-up id."""
        self.data[name] = data

    def doc(self, blob: str, path: str) -> SopsDocument | None:
        if blob not in self._docs:
            data = self.data.get(blob)
            self._docs[blob] = parse_sops(data, path) if data is not None else None
        return self._docs[blob]

    def values(self, blob: str, path: str) -> dict[ValueKey, str]:
        if blob not in self._values:
            doc = self.doc(blob, path)
            self._values[blob] = encrypted_values(doc) if doc is not None else {}
        return self._values[blob]

    def plain(self, blob: str, path: str) -> dict[ValueKey, bytes] | None:
        """SHA-256 of each decrypted value (compared in memory, never shown), or None when
        no identity of ours opens this version."""
        if blob not in self._plain:
            self._plain[blob] = self._open(blob, path)
        return self._plain[blob]

    def key_id(self, blob: str, path: str) -> bytes | None:
        """SHA-256 of this version's data key (which versions share one, told in memory),
        or None when no identity of ours unwraps it."""
        key = self._data_key(blob, path)
        return None if key is None else hashlib.sha256(key).digest()

    def _data_key(self, blob: str, path: str) -> bytes | None:
        """This version's data key (in memory only), unwrapped once per set of wrapped
        keys: the versions an edit made keep them all (a PGP unwrap is a gpg run)."""
        doc = self.doc(blob, path)
        if doc is None or self.identities is None or self.identities.empty:
            return None
        groups = doc.metadata.key_groups
        wrapped = (*(s.enc for g in groups for s in g.age), *(s.enc for g in groups for s in g.pgp))
        if wrapped not in self._keys:
            try:
                self._keys[wrapped] = recover_data_key(doc.metadata, self.identities, path=path)
            except SopskitError:
                self._keys[wrapped] = None
        return self._keys[wrapped]

    def _open(self, blob: str, path: str) -> dict[ValueKey, bytes] | None:
        doc = self.doc(blob, path)
        key = self._data_key(blob, path)
        if doc is None or key is None:
            return None
        try:
            cipher = cipher_for(doc, key)
            out: dict[ValueKey, bytes] = {}
            seen: dict[tuple[int, str], int] = {}
            for leaf, _, value in plain_leaves(doc, cipher):
                if not leaf.encrypted or leaf.is_comment or not (
                        isinstance(leaf.value, str) and leaf.value.startswith("ENC[")):
                    continue  # the same leaves as encrypted_values
                n = seen.get((leaf.document, leaf.key_path), 0)
                seen[(leaf.document, leaf.key_path)] = n + 1
                raw = value if isinstance(value, bytes) else str(value).encode(
                    "utf-8", "surrogateescape")
                digest = hashlib.sha256(type(value).__name__.encode() + b":" + raw).digest()
                out[(leaf.document, leaf.key_path, n)] = digest
            return out
        except SopskitError:
            return None
