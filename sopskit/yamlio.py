"""Every YAML load and dump of sopskit goes through here.

sops uses go-yaml v3, which resolves scalars by YAML 1.2 rules (`yes`/`on` stay strings,
no sexagesimal or `0o`-less octal ints) and keeps comments. PyYAML implements YAML 1.1
(`yes` -> True), which would change the MAC of plaintext values, so we use ruamel.yaml:
it resolves YAML 1.2 by default and its round-trip loader keeps comments, key order and
line numbers, which we need both for the MAC walk and for editing the registry in place.
"""

from __future__ import annotations

import io
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.tag import Tag

from sopskit.errors import InputError


def round_trip() -> YAML:
    """A loader/dumper that keeps comments, order, quoting and line numbers."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.allow_duplicate_keys = False
    yaml.width = 4096
    return yaml


def safe() -> YAML:
    """A plain-data YAML 1.2 loader/dumper (dict, list, str, int, float, bool, None)."""
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_duplicate_keys = False
    yaml.default_flow_style = False
    yaml.width = 4096
    return yaml


def load(text: str, *, path: str, rt: bool = False) -> Any:
    """Load one YAML document; errors name the file and line."""
    _precheck(text, path)
    try:
        return _no_surrogates((round_trip() if rt else safe()).load(text), text, path)
    except YAMLError as exc:
        raise _input_error(exc, path, text) from None
    except RecursionError:
        raise _too_deep(path, None) from None
    except ValueError:
        raise _unconstructible(path) from None


def load_all(text: str, *, path: str, rt: bool = True) -> list[Any]:
    """Load every document of a YAML stream; errors name the file and line."""
    _precheck(text, path)
    try:
        docs = list((round_trip() if rt else safe()).load_all(text))
        return list(_no_surrogates(docs, text, path))
    except YAMLError as exc:
        raise _input_error(exc, path, text) from None
    except RecursionError:
        raise _too_deep(path, None) from None
    except ValueError:
        raise _unconstructible(path) from None


_SURROGATE_ESCAPE = re.compile(r"\\(?:u|U0000)[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _no_surrogates(data: Any, text: str, path: str) -> Any:
    """yaml.v3 (scannerc.go) rejects a `\\uD800`-style escape: "found invalid Unicode
    character escape code". ruamel returns a str that cannot be encoded (printing or hashing
    it would fail), so the loaded data is searched when the text holds such an escape."""
    if not _SURROGATE_ESCAPE.search(text):
        return data
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise InputError("invalid YAML: a \\u escape is a lone surrogate, not a "
                                 "character", path=path)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return data


def _unconstructible(path: str) -> InputError:
    # ruamel's constructor calls int() and date() on the text: an integer of more than
    # 4,300 digits (Python's int-string limit) or an impossible date raises ValueError.
    return InputError("invalid YAML: a value cannot be read (an integer of more than 4300 "
                      "digits, or an impossible date)", path=path)


def _precheck(text: str, path: str) -> None:
    """The limits of `compose_all` before ruamel builds objects: its constructor shares an
    aliased object rather than copying it, but every walk over the result (a detector, the
    registry schema) would expand a bomb again. Text with no `*` has no alias, and a low
    nesting bound needs no check, so plain files pay nothing."""
    if _may_alias(text) or _nesting_bound(text) > MAX_C_NESTING:
        compose_all(text, path=path)


def compose_all(text: str, *, path: str) -> list[Any]:
    """The node graph of every document (ruamel `Node`s with marks; aliases are shared nodes).

    Uses libyaml's C composer when ruamel.yaml.clib is installed, with a no-op resolver:
    ruamel's own resolver costs more than the parse itself and the caller resolves plain
    scalars by go-yaml v3 rules anyway (sopsfile.yamlscalar). The sops file engine parses
    hundreds of files per run, so this is ~7x faster per file than YAML(typ="safe").
    Every node is tagged `str`/`map`/`seq` unless the text gives an explicit tag.
    """
    try:
        if _FastComposer is None:  # pragma: no cover - ruamel.yaml.clib is a dependency
            docs = list(YAML(typ="safe", pure=True).compose_all(text))
        else:
            if _nesting_bound(text) > MAX_C_NESTING:
                # libyaml's composer recurses in C and crashes the process on hostile
                # nesting: measure the real depth from the (iterative) event stream first.
                _check_event_depth(text, path)
            parser = _FastComposer(text)
            docs = []
            while parser.check_node():
                docs.append(parser.get_node())
    except YAMLError as exc:
        raise _input_error(exc, path, text) from None
    except RecursionError:
        raise _too_deep(path, None) from None
    if _may_alias(text):  # without an alias nothing expands, and the depth is bounded above
        for doc in docs:
            _check_expansion(doc, path)
    return docs


def _may_alias(text: str) -> bool:
    """Whether `text` may hold an alias: a `*` and an anchor's `&` (an alias names an anchor
    of its document; the composer refuses one that names none). A `*` alone is common (cron
    schedules, globs) and walking the graph for nothing was most of some files' parse."""
    return "*" in text and "&" in text


# go-yaml v3 (parserc.go) stops at 10,000 levels; the walks over a document here recurse in
# Python, so sopskit stops at 500 (no real sops file comes near it).
MAX_DEPTH = 500
MAX_C_NESTING = 100
# go-yaml v3 decode.go allowedAliasRatio: once a document decodes to more than 1,000 nodes
# of which more than 100 come through aliases, at most 99% of them may come through aliases
# up to 400,000 nodes, falling linearly to 10% at 4,000,000 ("document contains excessive
# aliasing"). sopskit applies the same rule to the expanded size of the whole document.
ALIAS_RATIO_LOW, ALIAS_RATIO_HIGH = 400_000, 4_000_000


def allowed_alias_ratio(decoded: int) -> float:
    if decoded <= ALIAS_RATIO_LOW:
        return 0.99
    if decoded >= ALIAS_RATIO_HIGH:
        return 0.10
    return 0.99 - 0.89 * (decoded - ALIAS_RATIO_LOW) / (ALIAS_RATIO_HIGH - ALIAS_RATIO_LOW)


def _too_deep(path: str, line: int | None) -> InputError:
    return InputError(f"invalid YAML: nested too deeply (more than {MAX_DEPTH} levels)", path=path,
                      line=line)


def _check_event_depth(text: str, path: str) -> None:
    from ruamel.yaml import CParser  # type: ignore[attr-defined]

    parser, depth = CParser(text), 0
    while parser.check_event():
        event = parser.get_event()
        kind = type(event).__name__
        if kind in ("MappingStartEvent", "SequenceStartEvent"):
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_deep(path, event.start_mark.line + 1)
        elif kind in ("MappingEndEvent", "SequenceEndEvent"):
            depth -= 1


def _check_expansion(root: Any, path: str) -> None:
    """Expanded size, depth and self-reference of one composed document, in time linear in
    its distinct nodes: an alias is the anchored node object itself, so sizes are memoised
    per node. Raises before any walk expands a bomb (a few hundred bytes, gigabytes)."""
    sizes: dict[int, tuple[int, int]] = {}  # id -> (expanded nodes, depth below)
    distinct, first_alias = 0, None
    stack: list[tuple[Any, int]] = [(root, 0)]
    open_ids: set[int] = set()
    while stack:
        node, state = stack.pop()
        key = id(node)
        children = _children(node)
        if state == 0:
            if key in sizes:
                first_alias = first_alias or node.start_mark.line + 1
                continue
            if key in open_ids:
                raise InputError("invalid YAML: an anchor's value contains an alias of itself",
                                 path=path, line=node.start_mark.line + 1)
            distinct += 1
            open_ids.add(key)
            if len(open_ids) > MAX_DEPTH:
                raise _too_deep(path, node.start_mark.line + 1)
            stack.append((node, 1))
            stack.extend((child, 0) for child in reversed(children))  # document order
        elif key in open_ids:
            open_ids.discard(key)
            below = [sizes[id(c)] for c in children]
            sizes[key] = (1 + sum(n for n, _ in below), 1 + max((d for _, d in below), default=0))
    total, depth = sizes[id(root)]
    if depth > MAX_DEPTH:
        raise _too_deep(path, root.start_mark.line + 1)
    through_aliases = total - distinct
    if (through_aliases > 100 and total > 1000
            and through_aliases / total > allowed_alias_ratio(total)):
        raise InputError("invalid YAML: excessive aliasing (the first anchor aliased is on this "
                         f"line; anchors expand to {total:,} nodes, "
                         f"{through_aliases:,} of them through aliases; the limit follows "
                         "go-yaml's)", path=path, line=first_alias)


def _children(node: Any) -> list[Any]:
    value = node.value
    if not isinstance(value, list):
        return []
    out: list[Any] = []
    for item in value:
        if isinstance(item, tuple):
            out.extend(item)
        else:
            out.append(item)
    return out


def _nesting_bound(text: str) -> int:
    """A cheap upper bound of the nesting depth: flow brackets plus, per line, indentation
    and compact `- ` / `: ` / `? ` forms."""
    flow = text.count("[") + text.count("{")
    if flow > MAX_C_NESTING:
        depth = flow = 0
        for m in _FLOW.finditer(text):
            depth += 1 if m.group() in "[{" else -1
            flow = max(flow, depth)
    block = max((len(line) - len(line.lstrip()) + line.count("- ") + line.count(": ")
                 + line.count("? ") for line in text.split("\n")), default=0)
    return flow + block


_FLOW = re.compile(r"[\[\]{}]")


def _fast_composer() -> Any:
    try:
        from ruamel.yaml import CParser  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - ruamel.yaml.clib is a dependency
        return None
    if CParser is None:  # pragma: no cover
        return None

    class FastComposer(CParser):  # type: ignore[misc]
        def descend_resolver(self, parent: Any, index: Any) -> None:
            return None

        def ascend_resolver(self) -> None:
            return None

        def resolve(self, kind: type, value: Any, implicit: Any) -> Tag:
            return _IMPLICIT_TAGS[kind.__name__]

    return FastComposer


# Shared Tag objects: ruamel builds a Tag per node from a string, which is measurable here.
_IMPLICIT_TAGS = {k: Tag(suffix=v) for k, v in (("MappingNode", "tag:yaml.org,2002:map"),
                                                 ("SequenceNode", "tag:yaml.org,2002:seq"),
                                                 ("ScalarNode", "tag:yaml.org,2002:str"))}
_FastComposer = _fast_composer()


def node_tag(node: Any) -> str:
    """A composed node's tag as written or implied (cheaper than ruamel's `Node.tag`)."""
    return str(node.ctag.suffix)


def dump(data: Any, *, rt: bool = False) -> str:
    """Serialise one document."""
    buf = io.StringIO()
    (round_trip() if rt else safe()).dump(data, buf)
    return buf.getvalue()


def _input_error(exc: YAMLError, path: str, text: str) -> InputError:
    line = None
    problem = "invalid YAML"
    if isinstance(exc, ReaderError) and isinstance(exc.position, int):
        # a control character (NUL, ...): YAML forbids it; name its line and code only
        line = text.count("\n", 0, exc.position) + 1
        if isinstance(exc.character, int):
            problem = f"invalid YAML: control character #x{exc.character:04x} is not allowed"
    key = None
    if isinstance(exc, MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        if mark is not None:
            line = mark.line + 1
        problem = f"invalid YAML: {_without_values(exc.problem or exc.context or '')}"
        if isinstance(exc, DuplicateKeyError) and line is not None:
            key = _plain_key(text.split("\n")[line - 1])
    # Never include the offending text: it may be a secret value (a plain key name is not).
    return InputError(problem, path=path, line=line, key_path=key)


_PLAIN_KEY = re.compile(r"^\s*(?:-\s+)?([A-Za-z0-9_.@+/-]+)\s*:(?:\s|$)")


def _plain_key(line: str) -> str | None:
    """The key of a `key: value` line when it is a plain name (never the value)."""
    match = _PLAIN_KEY.match(line)
    return match.group(1) if match else None


def _without_values(problem: str) -> str:
    """ruamel's problem text without the scalars it quotes: a duplicate key is reported
    'found duplicate key "K" with value "V" (original value: "W")' and a bad timestamp
    'failed to construct timestamp from "V"'; either value may be a secret."""
    head = problem.split('"', 1)[0].rstrip()
    return head.removesuffix(" from") or "parse error"
