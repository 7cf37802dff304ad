"""`sopskit edit --resolve FILE`: finish a sops file's merge conflict in the editor.

git keeps the three versions of a conflicted file in the index (stages 1 base, 2 ours,
3 theirs). They are decrypted in memory and merged per key path (`review.merge`); the
editor gets the merged plaintext with OURS' value at each conflicting key path and, in
marked header lines, both sides' values. Like `sops edit`, the plaintext for the editor is
a 0600 file in a private directory in memory (/dev/shm when there is one), never in the
work tree, removed afterwards even when interrupted. The saved text (header lines dropped)
is sealed under the merge's data key, unchanged values keeping their ciphertext (sops'
IV stash), verified, and written over FILE; `git add FILE` is then the user's call.
"""

from __future__ import annotations

import copy
import json
import os
import shlex
from pathlib import Path

from sopskit import gitio, process
from sopskit.engine import paths
from sopskit.engine.execfile import plaintext_path
from sopskit.errors import InputError, UsageError
from sopskit.fsio import write_atomic
from sopskit.identity.model import Identities
from sopskit.review.merge import Combined, Version, combine, open_version, seal_verified, show_path
from sopskit.sopsfile import yamlstore
from sopskit.sopsfile.decrypt import emit_plain
from sopskit.sopsfile.document import detect_format
from sopskit.sopsfile.extract import plain_branch
from sopskit.sopsfile.model import Format
from sopskit.sopsfile.tree import Branch, Comment, Item, Node, Scalar
from sopskit.sopsfile.treepath import find_item

MARK = "#~sopskit~ "


def stages(repo: Path, rel: str) -> dict[int, bytes]:
    """The conflicted file's index stages (1 base, 2 ours, 3 theirs) that exist."""
    # `:(literal)`: a name with `[`, `*` or `?` is not a glob (`a[z].yaml` would also
    # match a conflicted `az.yaml`, whose stages would then be merged into this file)
    out = gitio.git(repo, "ls-files", "-u", "-z", "--", f":(literal){rel}").decode(
        "utf-8", "surrogateescape")
    wanted = []
    for entry in filter(None, out.split("\0")):
        meta, _, _name = entry.partition("\t")
        _mode, blob, stage = meta.split()
        wanted.append((stage, blob))
    return {int(k): v for k, v in gitio.read_blobs(repo, wanted).items()}


def _node_text(node: Node | None) -> str:
    if node is None:
        return "(deleted)"
    if isinstance(node, Scalar):
        return json.dumps(node.value if isinstance(node.value, (str, int, float, bool))
                          else str(node.value))
    return "(a nested value: see the document)"


def _lookup(branches: list[Branch], index: int, keys: tuple[str, ...]) -> Node | None:
    node: Node | None = branches[index] if index < len(branches) else None
    for key in keys:
        if not isinstance(node, Branch):
            return None
        item = find_item(node, key)
        node = None if item is None else item.value
    return node


def proposal(done: Combined, ours: Version, theirs: Version, fmt: Format, *,
             path: str) -> bytes:
    """The text for the editor: marked header lines, then the merged plaintext."""
    head = [f"{MARK}Merge conflict in {path}: both sides changed the key paths below.",
            f"{MARK}The document has OURS' value there; edit what you want to keep and save.",
            f"{MARK}Lines starting with '{MARK.strip()}' are dropped when you save."]
    for index, keys in done.conflicts:
        head.append(f"{MARK}{show_path(index, keys)}: ours = "
                    f"{_node_text(_lookup(ours.plain, index, keys))} | theirs = "
                    f"{_node_text(_lookup(theirs.plain, index, keys))}")
    body = emit_plain(fmt, done.plain, path=path)
    return ("\n".join(head) + "\n").encode("utf-8", "surrogateescape") + body


def _strip(text: bytes) -> bytes:
    lines = text.decode("utf-8", "surrogateescape").split("\n")
    return "\n".join(ln for ln in lines if not ln.startswith(MARK.strip())).encode(
        "utf-8", "surrogateescape")


def edit_in_memory(text: bytes, name: str, editor: list[str]) -> bytes:
    """Run `editor` on `text` in a private in-memory directory; the saved bytes."""
    with process.terminations_interrupt(), \
            plaintext_path(text, name, fifo=False, kind="resolve") as path:
        code = process.run_interactive([*editor, str(path)], env=dict(os.environ))
        if code != 0:
            raise UsageError(f"the editor exited with {code}; nothing was changed")
        return path.read_bytes()


def user_editor() -> list[str]:
    """$SOPS_EDITOR, $EDITOR, else vi (as sops chooses)."""
    chosen = os.environ.get("SOPS_EDITOR") or os.environ.get("EDITOR") or "vi"
    return shlex.split(chosen)


def _restash(plain: list[Branch], done: Combined) -> tuple[list[Branch], list[Scalar | Comment]]:
    """The stored tree for an edited plaintext: every value equal to the merge's keeps its
    ciphertext (sops' IV stash); the rest, and every comment, is to be encrypted."""
    stored = copy.deepcopy(plain)
    fresh: list[Scalar | Comment] = []
    for index, branch in enumerate(stored):
        old_plain = done.plain[index] if index < len(done.plain) else None
        old_stored = done.stored[index] if index < len(done.stored) else None
        _restash_node(branch, old_plain, old_stored, fresh, set(map(id, done.fresh)))
    return stored, fresh


def _restash_node(node: Node, old_plain: Node | None, old_stored: Node | None,
                  fresh: list[Scalar | Comment], unsealed: set[int]) -> None:
    if isinstance(node, Scalar):
        if isinstance(old_plain, Scalar) and isinstance(old_stored, Scalar) \
                and id(old_stored) not in unsealed \
                and type(old_plain.value) is type(node.value) and old_plain.value == node.value:
            node.value = old_stored.value
        else:
            fresh.append(node)
        return
    if isinstance(node, Branch):
        for item in node:
            if isinstance(item, Comment):
                fresh.append(item)
                continue
            _restash_node(item.value, _child(old_plain, item.key), _child(old_stored, item.key),
                          fresh, unsealed)
        return
    for value in node:  # a list is one value: stash only when it is unchanged as a whole
        if isinstance(value, Comment):
            fresh.append(value)
        else:
            _restash_node(value, None, None, fresh, unsealed)


def _child(node: Node | None, key: str) -> Node | None:
    if not isinstance(node, Branch):
        return None
    item = find_item(node, key)
    return None if item is None else item.value


def resolve(source: Path, *, repo: Path, identities: Identities,
            editor: list[str] | None = None) -> list[str]:
    """Resolve FILE's conflict in the editor; the key paths that were in conflict."""
    shown = paths.display(repo, source)
    found = stages(repo, shown)
    if 2 not in found or 3 not in found:
        raise UsageError("not in a merge conflict (git has no 'ours' and 'theirs' stages "
                         "for it)", path=shown)
    fmt = detect_format(shown)
    base, ours, theirs = (None if found.get(n) is None else open_version(
        found[n], path=shown, fmt=fmt, identities=identities) for n in (1, 2, 3))
    assert ours is not None and theirs is not None
    if fmt == "yaml" and len(ours.plain) > 1:
        raise UsageError("multi-document files are not supported by --resolve", path=shown)
    done = combine(base, ours, theirs, path=shown)
    saved = _strip(edit_in_memory(proposal(done, ours, theirs, fmt, path=shown),
                                  source.name, editor or user_editor()))
    try:
        if fmt == "yaml" and len(yamlstore.load(saved.decode("utf-8", "surrogateescape"),
                                                path=shown)) > 1:
            raise UsageError("the saved text has several YAML documents (`---`); the file "
                             "has one; nothing was changed", path=shown)
        edited = [plain_branch(saved, fmt, path=shown)]
    except InputError as exc:
        raise InputError(f"the saved text does not parse ({exc.message}); nothing was "
                         "changed", path=shown) from None
    # an emptied buffer means "quit", as in many editors, not "delete every value"
    if not any(isinstance(e, Item) for e in edited[0]):
        raise UsageError("the saved text has no values (an emptied file?); nothing was "
                         "changed: remove values with `sopskit unset`", path=shown)
    stored, fresh = _restash(edited, done)
    write_atomic(source, seal_verified(done.host, stored, edited, fresh, path=shown,
                                       identities=identities))
    return [show_path(i, k) for i, k in done.conflicts]

