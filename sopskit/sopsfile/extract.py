"""`decrypt --extract`: one value or subtree of a decrypted document (cmd/sops/decrypt.go:
extract).

As sops: a string is printed as it is (no newline added); a mapping is printed as a
document of the file's format; any other value as that format prints a single value.
"""

from __future__ import annotations

from sopskit.errors import InputError, UsageError
from sopskit.sopsfile import dotenvstore, emit_json, emit_yaml, inistore, jsonstore, yamlstore
from sopskit.sopsfile.decrypt import emit_plain
from sopskit.sopsfile.model import Format
from sopskit.sopsfile.tree import Branch, Item, Scalar, Seq
from sopskit.sopsfile.treepath import TreePath, lookup


def plain_branch(plaintext: bytes, fmt: Format, *, path: str) -> Branch:
    """The first document of a plaintext in the store's format, as a tree."""
    text = plaintext.decode("utf-8", "surrogateescape")
    if fmt == "yaml":
        docs = yamlstore.load(text, path=path)
        return docs[0] if docs else Branch()
    if fmt == "json":
        return jsonstore.load(text, path=path)
    if fmt == "dotenv":
        return dotenvstore.load(text, path=path)
    if fmt == "ini":
        return inistore.to_branch(inistore.parse_sections(text, path=path))
    return Branch([Item("data", Scalar(text))])  # json.BinaryStore: the whole file is `data`


def extract(plaintext: bytes, fmt: Format, tree_path: TreePath, *, path: str) -> bytes:
    try:
        node = lookup(plain_branch(plaintext, fmt, path=path), tree_path)
    except UsageError as exc:  # tree path errors are raised without the file
        exc.path = exc.path or path
        raise
    if isinstance(node, Scalar) and isinstance(node.value, str):
        return node.value.encode("utf-8", "surrogateescape")
    if isinstance(node, Branch):
        if fmt in ("dotenv", "ini", "binary"):
            raise InputError(f"a {fmt} file cannot print a nested mapping", path=path)
        return emit_plain(fmt, [node], path=path)
    if fmt == "json":
        holder = Branch([Item("v", node)])
        text = emit_json.emit(holder).decode()
        # the value of the one key, de-indented by one tab
        body = text[text.index(":") + 2:text.rindex("\n}")]
        return "\n".join(line.removeprefix("\t") for line in body.split("\n")).encode()
    if isinstance(node, Seq):
        lines = emit_yaml.emit([Branch([Item("v", node)])]).decode().split("\n")[1:]
        return "\n".join(line.removeprefix("    ") for line in lines).encode()
    return (emit_yaml.scalar(node.value) + "\n").encode()
