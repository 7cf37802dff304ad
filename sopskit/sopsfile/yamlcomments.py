"""Find YAML comments in the text and attach them to the tree the way sops does.

yaml.v3 hangs comments on nodes (head/line/foot) and sops turns them into `Comment` entries
of the enclosing mapping or sequence (stores/yaml/store.go: appendYamlNodeToTreeBranch).
Which container holds a comment decides its AAD (sops-format.md 1.3), so a comment goes:
- inline (`key: v  # c`): before the deepest item starting on its line;
- full line: before the next item when that item is at the comment's column (head comment);
  otherwise at the end of the deepest open container indented at most as far (foot comment).
sops writes its own (encrypted) comments at their container's indentation, so this is exact
for files sops wrote; hand-written comments at odd columns land in the nearest container.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from sopskit.sopsfile.tree import Branch, Comment, Seq

_HASH = re.compile(r"(?:^|(?<=[ \t]))#")


@dataclass(eq=False)
class Container:
    """A mapping or sequence with its column, first line, parent and item start positions."""

    node: Branch | Seq
    column: int
    line: int
    parent: Container | None
    starts: list[tuple[int, int]]  # (0-based line, column) of each item, in order
    pending: list[tuple[int, Comment]]  # (insert before item index, comment)


@dataclass(frozen=True)
class _Start:
    line: int
    column: int
    box: Container
    index: int


def attach(text: str, containers: list[Container], spans: list[tuple[int, int]]) -> None:
    """Insert every comment of `text` into the container it belongs to."""
    starts = sorted(
        (_Start(ln, col, box, i) for box in containers for i, (ln, col) in enumerate(box.starts)),
        key=lambda s: (s.line, s.column))
    keys = [(s.line, s.column) for s in starts]
    spans.sort()
    for line_no, column, inline, body in _comments(text, spans):
        comment = Comment(body, line_no + 1, inline)
        box, index = _place((line_no, column, inline), starts, keys, containers)
        box.pending.append((index, comment))
    for box in containers:
        if box.pending:
            _insert(box)


def _comments(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int, bool, str]]:
    """(line, column, inline, text after '#') of each comment outside scalar text."""
    found = []
    offset = 0
    for line_no, line in enumerate(text.split("\n")):
        if "#" in line:
            for m in _HASH.finditer(line):
                if not _inside(offset + m.start(), spans):
                    before = line[: m.start()]
                    body = line[m.start() + 1:].rstrip("\r")
                    found.append((line_no, m.start(), bool(before.strip()), body))
                    break
        offset += len(line) + 1
    return found


def _inside(index: int, spans: list[tuple[int, int]]) -> bool:
    pos = bisect.bisect_right(spans, (index, 1 << 62)) - 1
    return pos >= 0 and spans[pos][0] <= index < spans[pos][1]


def _place(where: tuple[int, int, bool], starts: list[_Start], keys: list[tuple[int, int]],
           containers: list[Container]) -> tuple[Container, int]:
    line, column, inline = where
    after = bisect.bisect_right(keys, (line, 1 << 62))
    if inline:
        same = [s for s in starts[bisect.bisect_left(keys, (line, -1)):after] if s.line == line]
        if same:
            return same[-1].box, same[-1].index
    nxt = starts[after] if after < len(starts) else None
    if not inline and nxt is not None and nxt.column >= column:
        return nxt.box, nxt.index
    prev = starts[after - 1] if after > 0 else None
    box = _open_container(prev, column, containers, line)
    return box, len(box.node)


def _open_container(prev: _Start | None, column: int, containers: list[Container],
                    line: int) -> Container:
    if prev is None:
        tops = [c for c in containers if c.parent is None and c.line <= line]
        return tops[-1] if tops else containers[0]
    deepest = _innermost_at(prev, containers, line)
    box: Container | None = deepest
    while box is not None:
        if box.column <= column or box.parent is None:
            return box
        box = box.parent
    return prev.box


def _innermost_at(prev: _Start, containers: list[Container], line: int) -> Container:
    """The deepest container opened by or after `prev` and before `line`."""
    best = prev.box
    for box in containers:
        if box.line >= prev.line and box.line < line and _descends(box, prev.box):
            best = box if _depth(box) > _depth(best) else best
    return best


def _descends(box: Container, ancestor: Container) -> bool:
    node: Container | None = box
    while node is not None:
        if node is ancestor:
            return True
        node = node.parent
    return False


def _depth(box: Container) -> int:
    depth, node = 0, box.parent
    while node is not None:
        depth, node = depth + 1, node.parent
    return depth


def _insert(box: Container) -> None:
    """Put pending comments before their item (stable, in text order)."""
    items = list(box.node)
    out: list[object] = []
    pending = sorted(box.pending, key=lambda p: (p[0], p[1].line or 0))
    k = 0
    for i, item in enumerate(items):
        while k < len(pending) and pending[k][0] <= i:
            out.append(pending[k][1])
            k += 1
        out.append(item)
    out.extend(p[1] for p in pending[k:])
    box.node[:] = out  # type: ignore[assignment]
