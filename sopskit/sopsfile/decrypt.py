"""Native `sops --decrypt`: the plaintext document in the file's own format.

The MAC is checked first (as sops does without --ignore-mac); output is byte-identical to
sops 3.11 for JSON, dotenv, INI and binary, and equal in data and comments for YAML (in
practice byte-identical too, except exotic layouts such as lists directly inside lists).
"""

from __future__ import annotations

from sopskit.errors import InputError
from sopskit.sopsfile import emit_ini, emit_json, emit_yaml
from sopskit.sopsfile.cipher import CommentText
from sopskit.sopsfile.document import SopsDocument
from sopskit.sopsfile.gorender import to_text
from sopskit.sopsfile.mac import check_mac, cipher_for, plain_leaves
from sopskit.sopsfile.model import Format
from sopskit.sopsfile.tree import Branch, Comment, Item, Node, Scalar, ScalarValue, Seq


def plain_tree(doc: SopsDocument, data_key: bytes) -> list[Branch]:
    """A copy of the document's branches with every value and comment decrypted."""
    plain: dict[int, ScalarValue] = {
        id(obj): value for _, obj, value in plain_leaves(doc, cipher_for(doc, data_key))}
    return [_copy_branch(b, plain) for b in doc.branches]


def _copy_branch(node: Branch, plain: dict[int, ScalarValue]) -> Branch:
    out = Branch()
    for item in node:
        if isinstance(item, Comment):
            out.append(_copy_comment(item, plain))
        else:
            out.append(Item(item.key, _copy(item.value, plain), item.line))
    return out


def _copy_comment(c: Comment, plain: dict[int, ScalarValue]) -> Comment:
    return Comment(str(plain.get(id(c), c.text)), c.line, c.inline)


def _copy(node: Node, plain: dict[int, ScalarValue]) -> Node:
    if isinstance(node, Branch):
        return _copy_branch(node, plain)
    if isinstance(node, Seq):
        return Seq(_copy_comment(v, plain) if isinstance(v, Comment) else _copy_item(v, plain)
                   for v in node)
    return Scalar(plain.get(id(node), node.value), node.line)


def _copy_item(node: Node, plain: dict[int, ScalarValue]) -> Node | Comment:
    value = plain.get(id(node))
    if isinstance(value, CommentText) and isinstance(node, Scalar):
        return Comment(str(value), node.line)
    return _copy(node, plain)


def decrypt_document(doc: SopsDocument, data_key: bytes) -> bytes:
    """What `sops --decrypt` prints for this file (raises VerificationError on a bad MAC)."""
    check_mac(doc, data_key)
    return emit_plain(doc.format, plain_tree(doc, data_key), path=doc.path)


def emit_plain(fmt: Format, branches: list[Branch], *, path: str) -> bytes:
    """A plaintext tree in the store's own output format (what sops decrypt prints)."""
    if fmt == "yaml":
        return emit_yaml.emit(branches)
    if fmt == "json":
        return emit_json.emit(branches[0])
    if fmt == "ini":
        return emit_ini.emit(branches[0], path=path)
    if fmt == "dotenv":
        return _dotenv(branches[0], path)
    return _binary(branches[0], path)


def _dotenv(branch: Branch, path: str) -> bytes:
    """stores/dotenv/store.go: EmitPlainFile."""
    lines = []
    for item in branch:
        if isinstance(item, Comment):
            lines.append(f"#{item.text}\n")
            continue
        if not isinstance(item.value, Scalar):
            raise InputError("dotenv values cannot be nested", path=path, key_path=item.key)
        value = item.value.value
        text = value.replace("\n", "\\n") if isinstance(value, str) else to_text(value)
        lines.append(f"{item.key}={text}\n")
    return "".join(lines).encode("utf-8", "surrogateescape")


def _binary(branch: Branch, path: str) -> bytes:
    """json.BinaryStore: the plaintext is the `data` value itself."""
    for item in branch:
        if isinstance(item, Item) and item.key == "data" and isinstance(item.value, Scalar):
            value = item.value.value
            if isinstance(value, bytes):
                return value
            return str(value).encode("utf-8", "surrogateescape")
    raise InputError("binary sops file has no 'data' value", path=path)
