"""Three-way merge of a sops file per key path (the git merge driver's library).

sops files conflict on every concurrent edit in plain git: `lastmodified` and the MAC
change with each write (sops issue 52). Here the three versions are decrypted in memory and
merged per key path: a path changed on one side only takes that side; changed on both to
the same value is fine; changed on both differently is a conflict (mappings are merged key
by key; a list is one value). The result is written under the data key of a "host" side:
ours, or theirs when only theirs rotated the data key (a rotation must survive a merge).
Values taken from a side with the host's data key keep their ciphertext byte for byte
(the same key and key path give the same AAD); values from a side with another data key
are re-encrypted. Then the MAC is recomputed, and the result is verified (recipients and
data key of the host, MAC, plaintext equal to the merged plaintext) before it is returned.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from sopskit.engine import write_check
from sopskit.errors import NoIdentityError, SopskitError, VerificationError
from sopskit.identity.model import Identities
from sopskit.sopsfile import rawfile, reseal
from sopskit.sopsfile.decrypt import emit_plain, plain_tree
from sopskit.sopsfile.document import SopsDocument, parse
from sopskit.sopsfile.model import Format
from sopskit.sopsfile.tree import Branch, Comment, Item, Node, Scalar, Seq
from sopskit.sopsfile.treepath import find_item


class MergeConflict(VerificationError):
    """The same key path changed differently on both sides (paths listed, never values)."""

    def __init__(self, message: str, *, path: str, conflicts: list[str]) -> None:
        super().__init__(message, check="merge", path=path)
        self.conflicts = conflicts


@dataclass
class Version:
    """One side of the merge, opened in memory."""

    doc: SopsDocument
    raw: rawfile.RawFile
    key: bytes
    plain: list[Branch]


@dataclass
class _State:
    host: Version
    sides: dict[str, Version]
    host_side: str = "ours"
    fresh: list[Scalar] = field(default_factory=list)
    conflicts: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)


def open_version(data: bytes, *, path: str, fmt: Format, identities: Identities) -> Version:
    """Parse, recover the data key (NoIdentityError without one) and decrypt (MAC checked)."""
    done = write_check.check_bytes(data, path=path, fmt=fmt, identities=identities,
                             expect=write_check.Expect(require_key=True))
    assert done.data_key is not None
    return Version(done.document, rawfile.load(data, path=path, fmt=fmt), done.data_key,
                   plain_tree(done.document, done.data_key))


@dataclass
class Combined:
    """The merge before it is written: the host side, the merged plaintext and stored
    trees, the values to encrypt and the conflicting key paths (left as the host's)."""

    host: Version
    plain: list[Branch]
    stored: list[Branch]
    fresh: list[Scalar]
    conflicts: list[tuple[int, tuple[str, ...]]]  # (document index, keys)


def combine(base: Version | None, ours: Version, theirs: Version, *, path: str) -> Combined:
    host = _host(base, ours, theirs, path)
    state = _State(host, {"ours": ours, "theirs": theirs},
                   "ours" if host is ours else "theirs")
    if len(ours.plain) != len(theirs.plain):
        raise MergeConflict("the two sides have a different number of YAML documents",
                            path=path, conflicts=["(documents)"])
    merged_plain = copy.deepcopy(host.plain)
    merged_stored = copy.deepcopy(host.raw.data)
    for index in range(len(ours.plain)):
        b = base.plain[index] if base and index < len(base.plain) else None
        _merge_branch(state, index, (), (b, ours.plain[index], theirs.plain[index]),
                      (merged_plain[index], merged_stored[index]))
    return Combined(host, merged_plain, merged_stored, state.fresh, state.conflicts)


def show_path(index: int, keys: tuple[str, ...]) -> str:
    text = ".".join(keys) or "(document)"
    return f"doc{index + 1}:{text}" if index else text


def seal_verified(host: Version, stored: list[Branch], plain: list[Branch],
                  fresh: list[Scalar | Comment], *, path: str,
                  identities: Identities) -> bytes:
    """`stored` sealed under the host's data key and verified to decrypt to `plain`."""
    raw = copy.deepcopy(host.raw)
    raw.data = stored
    meta = host.doc.metadata
    new = reseal.seal(raw, meta, host.key, fresh)
    write_check.check_bytes(new, path=path, fmt=host.doc.format, identities=identities,
                      expect=write_check.Expect(
                          recipients=meta.recipients, key_same_as=host.key,
                          crypt=(meta.crypt_rule, meta.mac_only_encrypted), require_key=True,
                          plaintext=emit_plain(host.doc.format, plain, path=path)))
    return new


def merge(base: Version | None, ours: Version, theirs: Version, *, path: str,
          identities: Identities) -> bytes:
    """The merged file's bytes, verified; MergeConflict naming the key paths."""
    done = combine(base, ours, theirs, path=path)
    if done.conflicts:
        names = [show_path(i, k) for i, k in done.conflicts]
        raise MergeConflict(f"both sides changed {', '.join(names)}", path=path,
                            conflicts=names)
    return seal_verified(done.host, done.stored, done.plain, list(done.fresh), path=path,
                         identities=identities)


def _host(base: Version | None, ours: Version, theirs: Version, path: str) -> Version:
    """Ours, unless only theirs changed the data key or the recipients."""
    ours_recipients = ours.doc.metadata.recipients
    theirs_recipients = theirs.doc.metadata.recipients
    if ours.key == theirs.key and ours_recipients == theirs_recipients:
        return ours
    if base is None:
        raise MergeConflict("the two sides were encrypted separately (different data keys "
                            "or recipients, no common version)", path=path,
                            conflicts=["(sops metadata)"])
    base_recipients = base.doc.metadata.recipients
    ours_moved = ours.key != base.key or ours_recipients != base_recipients
    theirs_moved = theirs.key != base.key or theirs_recipients != base_recipients
    if ours_moved and theirs_moved:
        raise MergeConflict("both sides changed the data key or the recipients; merge "
                            "the values, then re-run the rotation", path=path,
                            conflicts=["(sops metadata)"])
    return theirs if theirs_moved else ours


def equal(a: Node | None, b: Node | None) -> bool:
    """Plaintext equality ignoring comments and line numbers."""
    if a is None or b is None:
        return a is b
    if isinstance(a, Scalar) and isinstance(b, Scalar):
        return type(a.value) is type(b.value) and a.value == b.value
    if isinstance(a, Branch) and isinstance(b, Branch):
        ia = [i for i in a if isinstance(i, Item)]
        ib = [i for i in b if isinstance(i, Item)]
        return len(ia) == len(ib) and all(
            x.key == y.key and equal(x.value, y.value) for x, y in zip(ia, ib, strict=True))
    if isinstance(a, Seq) and isinstance(b, Seq):
        va = [v for v in a if not isinstance(v, Comment)]
        vb = [v for v in b if not isinstance(v, Comment)]
        return len(va) == len(vb) and all(
            equal(x, y) for x, y in zip(va, vb, strict=True))
    return False


Three = tuple["Node | None", "Node | None", "Node | None"]  # base, ours, theirs


def _merge_branch(state: _State, index: int, keys: tuple[str, ...],
                  three: Three, target: tuple[Branch, Branch]) -> None:
    """Apply to `target` (the host's plaintext and stored mapping, copies) what the other
    side changed, key by key; the host's layout and comments stay."""
    base, ours, theirs = three
    names = [i.key for i in ours if isinstance(i, Item)] if isinstance(ours, Branch) else []
    if isinstance(theirs, Branch):
        names += [i.key for i in theirs if isinstance(i, Item) and i.key not in names]
    if isinstance(base, Branch):
        names += [i.key for i in base if isinstance(i, Item) and i.key not in names]
    for name in names:
        sub = (_value(base, name), _value(ours, name), _value(theirs, name))
        _merge_key(state, index, (*keys, name), sub, target)


def _value(branch: Node | None, name: str) -> Node | None:
    if not isinstance(branch, Branch):
        return None
    item = find_item(branch, name)
    return None if item is None else item.value


def _merge_key(state: _State, index: int, keys: tuple[str, ...],
               three: Three, target: tuple[Branch, Branch]) -> None:
    base, ours, theirs = three
    if equal(ours, theirs) or equal(base, theirs):
        side = "ours"
    elif equal(base, ours):
        side = "theirs"
    elif isinstance(ours, Branch) and isinstance(theirs, Branch) and (
            base is None or isinstance(base, Branch)):
        inner = tuple(find_item(t, keys[-1]) for t in target)
        assert inner[0] is not None and inner[1] is not None
        assert isinstance(inner[0].value, Branch) and isinstance(inner[1].value, Branch)
        _merge_branch(state, index, keys, three, (inner[0].value, inner[1].value))
        return
    else:
        state.conflicts.append((index, keys))
        return
    if side == state.host_side:
        return
    chosen = ours if side == "ours" else theirs
    name = keys[-1]
    if chosen is None:
        for t in target:
            item = find_item(t, name)
            if item is not None:
                t.remove(item)
        return
    values = (copy.deepcopy(chosen), _stored(state, side, index, keys, chosen))
    for t, value in zip(target, values, strict=True):
        item = find_item(t, name)
        if item is None:
            t.append(Item(name, value))
        else:
            item.value = value


def _stored(state: _State, side: str, index: int, keys: tuple[str, ...],
            plain: Node) -> Node:
    """The stored form of a value taken from `side`: its own ciphertext when that side has
    the host's data key, else the plaintext as fresh values to encrypt."""
    version = state.sides[side]
    if version.key == state.host.key:
        node: Node = version.raw.data[index]
        for name in keys:
            found = find_item(node, name) if isinstance(node, Branch) else None
            if found is None:
                raise SopskitError("the stored tree and its plaintext disagree",
                                   path=version.doc.path)
            node = found.value
        return copy.deepcopy(node)
    copied = copy.deepcopy(plain)
    state.fresh.extend(_scalars(copied))
    return copied


def _scalars(node: Node) -> list[Scalar]:
    if isinstance(node, Scalar):
        return [node]
    out: list[Scalar] = []
    for item in node:
        if isinstance(item, Item):
            out += _scalars(item.value)
        elif not isinstance(item, Comment):
            out += _scalars(item)
    return out


def merge_bytes(base: bytes | None, ours: bytes, theirs: bytes, *, path: str, fmt: Format,
                identities: Identities) -> bytes:
    """`merge` on file contents; NoIdentityError when a side cannot be opened."""
    opened = [None if data is None else open_version(data, path=path, fmt=fmt,
                                                     identities=identities)
              for data in (base, ours, theirs)]
    b, o, t = opened
    assert o is not None and t is not None
    return merge(b, o, t, path=path, identities=identities)


def is_sops(data: bytes, fmt: Format, path: str) -> bool:
    try:
        parse(data, path=path, fmt=fmt)
    except SopskitError:
        return False
    return True


__all__ = ["MergeConflict", "NoIdentityError", "Version", "equal", "is_sops", "merge",
           "merge_bytes", "open_version"]
