"""Decrypted documents as plain Python values, for the library API (`sopskit.decrypt`).

YAML and JSON give dicts and lists (a YAML file of several documents gives a list of them),
dotenv a dict of strings, INI a dict of sections (each a dict of strings), binary the bytes
themselves. Comments are dropped; YAML timestamps become `datetime`; keys keep file order.
"""

from __future__ import annotations

from typing import Any

from sopskit.sopsfile import yamlstore
from sopskit.sopsfile.extract import plain_branch
from sopskit.sopsfile.model import Format
from sopskit.sopsfile.tree import Branch, Comment, GoTime, Node, Scalar, Seq
from sopskit.sopsfile.treepath import TreePath, lookup


def to_python(node: Node) -> Any:
    """A tree node as dict / list / scalar (comments left out)."""
    if isinstance(node, Branch):
        return {item.key: to_python(item.value) for item in node if not isinstance(item, Comment)}
    if isinstance(node, Seq):
        return [to_python(v) for v in node if not isinstance(v, Comment)]
    assert isinstance(node, Scalar)
    value = node.value
    return value.to_datetime() if isinstance(value, GoTime) else value


def plain_value(plaintext: bytes, fmt: Format, *, path: str,
                tree_path: TreePath | None = None) -> Any:
    """The plaintext of a `fmt` file as Python values; with `tree_path`, only that value or
    subtree (of the first YAML document, as `sops decrypt --extract`)."""
    if tree_path is not None:
        return to_python(lookup(plain_branch(plaintext, fmt, path=path), tree_path))
    if fmt == "binary":
        return plaintext
    if fmt == "yaml":
        docs = yamlstore.load(plaintext.decode("utf-8", "surrogateescape"), path=path)
        values = [to_python(d) for d in docs]
        return values[0] if len(values) == 1 else values
    return to_python(plain_branch(plaintext, fmt, path=path))
