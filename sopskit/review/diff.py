"""What changed in a sops file between two versions, for a reviewer who must not see values.

Key-less (from the stored files alone): key paths added, removed and changed (stored
value differs), recipients added and removed, crypt rule changes, and whether the data key
was kept. sops re-encrypts an unchanged value to the same ciphertext while the data key is
kept (its IV stash, sops-format.md 1.2), so a differing ciphertext means a changed value;
after a rotation every ciphertext differs and changes cannot be told apart without a key.
With a key that opens both versions: exact value changes, each shown as a short
fingerprint (the audit's scrypt fingerprint: "same as" is visible, the value is not).
Values the file keeps in plaintext are shown as they are (they are in the file already).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sopskit.audit.fingerprint import secret_fingerprint
from sopskit.errors import NoIdentityError, SopskitError
from sopskit.identity.model import Identities
from sopskit.review.sides import Pair
from sopskit.sopsfile.datakey import recover_data_key
from sopskit.sopsfile.decrypt import plain_tree
from sopskit.sopsfile.document import SopsDocument, detect_format, parse
from sopskit.sopsfile.gorender import to_text
from sopskit.sopsfile.mac import check_mac
from sopskit.sopsfile.model import KeyGroup, Metadata
from sopskit.sopsfile.tree import Branch, Comment, Item, Node, ScalarValue, Seq

FP_RULE = "diff"  # the fingerprint's salt: unrelated to the audit's fingerprints
FP_LENGTH = 8
KeyState = Literal["kept", "rotated", "rotated?", "n/a"]
# "unknown": a new ciphertext after a rotation seen without a key (changed or not)
Kind = Literal["added", "removed", "changed", "re-encrypted", "unknown"]


@dataclass(frozen=True)
class ValueChange:
    key_path: str
    kind: Kind
    encrypted: bool
    old: str | None = None  # a fingerprint, or the value itself when stored in plaintext
    new: str | None = None


@dataclass
class FileDiff:
    path: str
    old_path: str
    status: str  # added, deleted, modified, renamed
    changes: list[ValueChange] = field(default_factory=list)
    recipients_added: list[str] = field(default_factory=list)
    recipients_removed: list[str] = field(default_factory=list)
    crypt_rule: tuple[str, str] | None = None  # (old, new) when it changed
    data_key: KeyState = "n/a"
    opened: bool = False  # a key of ours opened both versions: changes are exact
    problems: list[str] = field(default_factory=list)  # a side that does not parse


@dataclass(frozen=True)
class _Version:
    doc: SopsDocument | None
    stored: dict[str, tuple[ScalarValue, bool]]  # key path -> (stored value, encrypted)
    key: bytes | None
    plain: dict[str, ScalarValue] | None


def diff_pair(pair: Pair, identities: Identities) -> FileDiff:
    out = FileDiff(pair.new.path, pair.old.path, pair.status)
    old, new = (_version(side.path, side.data, identities, out)
                for side in (pair.old, pair.new))
    out.opened = (old.doc is None or old.plain is not None) and \
        (new.doc is None or new.plain is not None)
    if old.doc is not None and new.doc is not None:
        _metadata(out, old.doc, new.doc)
        out.data_key = _key_state(old, new)
    out.changes = _changes(old, new, out.opened)
    if out.data_key == "rotated?":
        out.changes = [ValueChange(c.key_path, "unknown", True) if c.kind == "changed"
                       and c.encrypted else c for c in out.changes]
    return out


def _version(path: str, data: bytes | None, identities: Identities, out: FileDiff) -> _Version:
    if data is None:
        return _Version(None, {}, None, None)
    try:
        doc = parse(data, path=path, fmt=detect_format(path))
    except SopskitError as exc:
        out.problems.append(str(exc))
        return _Version(None, {}, None, None)
    stored = leaf_paths(doc)
    try:
        key = recover_data_key(doc.metadata, identities, path=path)
    except NoIdentityError:
        return _Version(doc, stored, None, None)
    try:
        check_mac(doc, key)
        plain_doc = SopsDocument(path, doc.format, doc.metadata, plain_tree(doc, key))
        plain = {k: v for k, (v, _) in _indexed(plain_doc, {}).items()}
    except SopskitError as exc:
        out.problems.append(str(exc))
        return _Version(doc, stored, key, None)
    return _Version(doc, stored, key, plain)


def leaf_paths(doc: SopsDocument) -> dict[str, tuple[ScalarValue, bool]]:
    """Every value by its key path (`a.b`, list items `a[0]`, later YAML documents
    prefixed `doc2:`) with whether the file's crypt rule encrypts it."""
    encrypted = {id(obj): leaf.encrypted for leaf, obj in doc.walk()}
    return _indexed(doc, encrypted)


def _indexed(doc: SopsDocument, encrypted: dict[int, bool]
             ) -> dict[str, tuple[ScalarValue, bool]]:
    out: dict[str, tuple[ScalarValue, bool]] = {}
    for number, branch in enumerate(doc.branches):
        _walk(branch, f"doc{number + 1}:" if number else "", out, encrypted)
    return out


def _walk(node: Node, prefix: str, out: dict[str, tuple[ScalarValue, bool]],
          encrypted: dict[int, bool]) -> None:
    if isinstance(node, Branch):
        for item in node:
            if isinstance(item, Item):
                dot = "." if prefix and not prefix.endswith(":") else ""
                _walk(item.value, f"{prefix}{dot}{item.key}", out, encrypted)
    elif isinstance(node, Seq):
        for index, value in enumerate(v for v in node if not isinstance(v, Comment)):
            _walk(value, f"{prefix}[{index}]", out, encrypted)
    elif node.value is not None:
        out[prefix] = (node.value, encrypted.get(id(node), False))


def _metadata(out: FileDiff, old: SopsDocument, new: SopsDocument) -> None:
    before, after = old.metadata, new.metadata
    out.recipients_added = sorted(str(r) for r in after.recipients - before.recipients)
    out.recipients_removed = sorted(str(r) for r in before.recipients - after.recipients)
    rules = [f"{m.effective_crypt_rule.kind}={m.effective_crypt_rule.value!r}"
             + (" mac_only_encrypted" if m.mac_only_encrypted else "") for m in (before, after)]
    if rules[0] != rules[1]:
        out.crypt_rule = (rules[0], rules[1])


def _key_state(old: _Version, new: _Version) -> KeyState:
    if old.key is not None and new.key is not None:
        return "kept" if old.key == new.key else "rotated"
    if old.doc is not None and new.doc is not None \
            and _same_wrapped_key(old.doc.metadata, new.doc.metadata):
        return "kept"
    common = [k for k, (v, enc) in old.stored.items()
              if enc and v != "" and new.stored.get(k, (None, False))[1]
              and new.stored[k][0] != ""]
    if not common:
        return "n/a"
    same = any(old.stored[k][0] == new.stored[k][0] for k in common)
    return "kept" if same else "rotated?"


def _same_wrapped_key(old: Metadata, new: Metadata) -> bool:
    """Every key group still holds one of its old wrapped data keys (or Shamir shares)
    byte for byte: sops edit / set keep them, `sops rotate` wraps a new key for every
    recipient. Equal ciphertext under one recipient is the same data key, so this proves
    "kept" without a key even when every value changed (say a file with one secret)."""
    if len(old.key_groups) != len(new.key_groups) or not old.key_groups:
        return False
    return all(_wrapped(a) & _wrapped(b) for a, b in zip(old.key_groups, new.key_groups,
                                                            strict=True))


def _wrapped(group: KeyGroup) -> set[str]:
    return {s.enc for s in group.age if s.enc} | {s.enc for s in group.pgp if s.enc} \
        | {s.enc for s in group.other if s.enc}


def _changes(old: _Version, new: _Version, opened: bool) -> list[ValueChange]:
    out: list[ValueChange] = []
    keys = list(old.stored) + [k for k in new.stored if k not in old.stored]
    for key in keys:
        before, after = old.stored.get(key), new.stored.get(key)
        encrypted = (after or before or (None, False))[1]
        if before is None:
            out.append(ValueChange(key, "added", encrypted, None, _shown(new, key, encrypted)))
        elif after is None:
            out.append(ValueChange(key, "removed", encrypted, _shown(old, key, encrypted)))
        elif before[0] != after[0] or before[1] != after[1]:
            out.append(_changed(key, old, new, encrypted, opened))
    return out


def _changed(key: str, old: _Version, new: _Version, encrypted: bool,
             opened: bool) -> ValueChange:
    a, b = _shown(old, key, encrypted), _shown(new, key, encrypted)
    if opened and old.plain is not None and new.plain is not None \
            and _same(old.plain.get(key), new.plain.get(key)):
        return ValueChange(key, "re-encrypted", encrypted, a, b)
    return ValueChange(key, "changed", encrypted, a, b)


def _same(a: ScalarValue, b: ScalarValue) -> bool:
    return type(a) is type(b) and a == b


def _shown(version: _Version, key: str, encrypted: bool) -> str | None:
    """A fingerprint of an encrypted value (None without a key); a plaintext value itself."""
    if not encrypted:
        return to_text(version.stored[key][0])
    if version.plain is None:
        return None
    value = version.plain.get(key)
    text = "" if value is None else to_text(value)
    return secret_fingerprint(FP_RULE, text)[:FP_LENGTH]


def diff_pairs(pairs: list[Pair], identities: Identities) -> list[FileDiff]:
    return [diff_pair(pair, identities) for pair in pairs]
