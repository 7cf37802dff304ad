"""Parse any YAML into sops' ordered tree (stores/yaml/store.go: LoadPlainFile).

Nodes come from ruamel.yaml's composer (the libyaml-based C composer when installed, which
is ~10x faster than the pure one) through sopskit.yamlio; scalars are then resolved by
`yamlscalar` (yaml.v3 rules, which the MAC depends on), anchors are expanded, duplicate keys
rejected where sops rejects them, and every leaf keeps its line. The composer drops comments,
so `yamlcomments` finds them in the text and attaches them where yaml.v3 would: to their
mapping or sequence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sopskit import yamlio
from sopskit.errors import InputError
from sopskit.sopsfile import yamlcomments
from sopskit.sopsfile.tree import Branch, Item, Scalar, ScalarValue, Seq
from sopskit.sopsfile.yamlscalar import resolve_plain

_SURROGATE = re.compile("[\ud800-\udfff]")
_RESOLVABLE = {
    "tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "timestamp")
}


@dataclass
class Layout:
    """Where containers and their items start, for placing comments."""

    containers: list[yamlcomments.Container] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)  # scalar text spans


def load(text: str, *, path: str) -> list[Branch]:
    """Every document of `text` as a branch (a document must be a mapping or empty)."""
    nodes = yamlio.compose_all(text, path=path)
    layout = Layout()
    branches = [_document(node, path, layout) for node in nodes]
    if "#" in text and layout.containers:
        yamlcomments.attach(text, layout.containers, layout.spans)
    return branches


def _document(node: Node | None, path: str, layout: Layout) -> Branch:
    if node is None or (isinstance(node, ScalarNode) and node.value == "" and not node.style):
        branch = Branch()
        layout.containers.append(yamlcomments.Container(branch, 0, -1, None, [], []))
        return branch
    if not isinstance(node, MappingNode):
        raise InputError("a YAML document must be a mapping (key: value pairs)", path=path,
                         line=node.start_mark.line + 1)
    return _mapping(node, path, layout, None, top=True)


def _mapping(node: MappingNode, path: str, layout: Layout,
             parent: yamlcomments.Container | None, *, top: bool = False) -> Branch:
    branch = Branch()
    box = yamlcomments.Container(branch, node.start_mark.column, node.start_mark.line, parent,
                                 [], [])
    layout.containers.append(box)
    seen: set[str] = set()
    for key_node, value_node in node.value:
        key = _key(key_node, path)
        line = key_node.start_mark.line + 1
        # sops decodes a document's top level into a map (yaml.v3: "mapping key already
        # defined") but keeps nested duplicates in its tree, and decrypts such files (older
        # sops wrote them); the metadata block is checked by document.parse.
        if top and key in seen:
            raise InputError(f"duplicate key {key!r}", path=path, line=line)
        seen.add(key)
        _note_span(key_node, layout)
        box.starts.append((key_node.start_mark.line, key_node.start_mark.column))
        branch.append(Item(key, _value(value_node, path, layout, box), line))
    return branch


def _sequence(node: SequenceNode, path: str, layout: Layout,
              parent: yamlcomments.Container) -> Seq:
    seq = Seq()
    box = yamlcomments.Container(seq, node.start_mark.column, node.start_mark.line, parent,
                                 [], [])
    layout.containers.append(box)
    for item in node.value:
        box.starts.append((item.start_mark.line, node.start_mark.column))
        seq.append(_value(item, path, layout, box))
    return seq


def _value(node: Node, path: str, layout: Layout,
           parent: yamlcomments.Container) -> Branch | Seq | Scalar:
    if isinstance(node, MappingNode):
        return _mapping(node, path, layout, parent)
    if isinstance(node, SequenceNode):
        return _sequence(node, path, layout, parent)
    _note_span(node, layout)
    return Scalar(_scalar(node, path), node.start_mark.line + 1)


def _scalar(node: Node, path: str) -> ScalarValue:
    """Quoted and block scalars are strings; plain ones are resolved as yaml.v3 does.

    ruamel has already tagged plain scalars by its own (YAML 1.2) resolver; we only use the
    tag to leave custom-tagged scalars (`!foo bar`) as strings, and re-resolve the rest.
    """
    text: str = node.value
    if _SURROGATE.search(text):
        # yaml.v3 scannerc.go: "found invalid Unicode character escape code" (a `\\uD800`
        # escape in a double-quoted scalar is half a UTF-16 pair, not a character).
        raise InputError("invalid YAML: a \\u escape is a lone surrogate, not a character",
                         path=path, line=node.start_mark.line + 1)
    if getattr(node, "style", None) or yamlio.node_tag(node) not in _RESOLVABLE:
        return text
    return resolve_plain(text)


def _key(node: Node, path: str) -> str:
    if not isinstance(node, ScalarNode):
        raise InputError("a mapping key must be a plain string, not a mapping or list",
                         path=path, line=node.start_mark.line + 1)
    value = _scalar(node, path)
    if not isinstance(value, str):
        # sops.go walkBranch: "Tree contains a non-string key"; sops cannot handle it either.
        raise InputError("a mapping key must be a string (sops supports only string keys); "
                         "quote it", path=path, line=node.start_mark.line + 1)
    return value


def _note_span(node: Node, layout: Layout) -> None:
    if node.end_mark.line > node.start_mark.line or "#" in node.value:
        layout.spans.append((node.start_mark.index, node.end_mark.index))
