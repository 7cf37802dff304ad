"""sops' tree path syntax (`["data"]["password"]`, `["list"][0]`) and navigation in a tree.

One parser for every command that takes such a path (decrypt --extract, set, unset, diff).
It accepts what cmd/sops/main.go: parseTreePath accepts (a string component in double or
single quotes, an integer component for a list index) and, unlike sops, a key containing
`[` (sops splits on every `[`). List indices count values only, not comments.
"""

from __future__ import annotations

from sopskit.errors import UsageError
from sopskit.sopsfile.tree import Branch, Comment, Item, Node, Seq

Component = str | int
TreePath = tuple[Component, ...]


def parse_path(text: str) -> TreePath:
    """`["a"][0]['b']` -> ("a", 0, "b"); UsageError naming the bad component."""
    out: list[Component] = []
    pos = 0
    while pos < len(text):
        if text[pos] != "[":
            raise UsageError(f"tree path {text!r}: expected '[' at character {pos + 1} "
                             "(sops syntax: [\"key\"][0])")
        quote = text[pos + 1:pos + 2]
        if quote in ("'", '"'):
            end = text.find(quote + "]", pos + 2)
            if end < 0:
                raise UsageError(f"tree path {text!r}: component at character {pos + 1} "
                                 "has no closing quote and ']'")
            out.append(text[pos + 2:end])
            pos = end + 2
            continue
        end = text.find("]", pos)
        digits = text[pos + 1:end] if end > 0 else ""
        if not digits.isdigit() or not digits.isascii():
            raise UsageError(f"tree path {text!r}: component at character {pos + 1} is "
                             "neither a quoted key nor a list index")
        out.append(int(digits))
        pos = end + 1
    if not out:
        raise UsageError("tree path is empty (sops syntax: [\"key\"][0])")
    return tuple(out)


def format_path(path: TreePath) -> str:
    """The sops syntax for `path` (for messages: keys are shown, never values)."""
    return "".join(f"[{c}]" if isinstance(c, int) else f'["{c}"]' for c in path)


def values(node: Seq) -> list[Node]:
    return [v for v in node if not isinstance(v, Comment)]


def find_item(branch: Branch, key: str) -> Item | None:
    for item in branch:
        if isinstance(item, Item) and item.key == key:
            return item
    return None


def lookup(root: Branch, path: TreePath) -> Node:
    """The node at `path` (sops.go: TreeBranch.Truncate); UsageError when it is not there."""
    node: Node = root
    for depth, comp in enumerate(path):
        node = _child(node, comp, path[:depth + 1])
    return node


class MissingPath(UsageError):
    """The path names a key or list item that does not exist."""


def _child(node: Node, comp: Component, upto: TreePath) -> Node:
    if isinstance(comp, int):
        if not isinstance(node, Seq):
            raise UsageError(f"{format_path(upto)}: index into something that is not a list")
        items = values(node)
        if comp >= len(items):
            raise MissingPath(f"{format_path(upto)}: index out of range ({len(items)} items)")
        return items[comp]
    if not isinstance(node, Branch):
        raise UsageError(f"{format_path(upto)}: key into something that is not a mapping")
    item = find_item(node, comp)
    if item is None:
        raise MissingPath(f"{format_path(upto)}: no such key")
    return item.value


def _build(path: TreePath, leaf: Node) -> Node:
    """sops.go: valueFromPathAndLeaf."""
    node = leaf
    for comp in reversed(path):
        node = Seq([node]) if isinstance(comp, int) else Branch([Item(comp, node)])
    return node


def set_node(root: Branch, path: TreePath, leaf: Node) -> None:
    """Put `leaf` at `path`, creating missing keys and items on the way (sops.go: set)."""
    node: Node = root
    for depth, comp in enumerate(path[:-1]):
        try:
            node = _child(node, comp, path[:depth + 1])
        except MissingPath:
            _attach(node, comp, _build(path[depth + 1:], leaf), path[:depth + 1])
            return
    _attach(node, path[-1], leaf, path)


def _attach(parent: Node, comp: Component, value: Node, upto: TreePath) -> None:
    if isinstance(comp, int):
        if not isinstance(parent, Seq):
            raise UsageError(f"{format_path(upto)}: index into something that is not a list")
        positions = [i for i, v in enumerate(parent) if not isinstance(v, Comment)]
        if comp >= len(positions):
            parent.append(value)  # sops appends when the index is past the end
        else:
            parent[positions[comp]] = value
        return
    if not isinstance(parent, Branch):
        raise UsageError(f"{format_path(upto)}: key into something that is not a mapping")
    item = find_item(parent, comp)
    if item is None:
        parent.append(Item(comp, value))
    else:
        item.value = value


def unset_node(root: Branch, path: TreePath) -> None:
    """Remove the key or list item at `path` (sops.go: unset); MissingPath if absent."""
    lookup(root, path)
    parent = lookup(root, path[:-1]) if len(path) > 1 else root
    last = path[-1]
    if isinstance(parent, Seq) and isinstance(last, int):
        positions = [i for i, v in enumerate(parent) if not isinstance(v, Comment)]
        del parent[positions[last]]
    elif isinstance(parent, Branch) and isinstance(last, str):
        item = find_item(parent, last)
        if item is not None:
            parent.remove(item)
