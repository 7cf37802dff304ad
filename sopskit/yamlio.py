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
    try:
        return (round_trip() if rt else safe()).load(text)
    except YAMLError as exc:
        raise _input_error(exc, path, text) from None


def load_all(text: str, *, path: str, rt: bool = True) -> list[Any]:
    """Load every document of a YAML stream; errors name the file and line."""
    try:
        return list((round_trip() if rt else safe()).load_all(text))
    except YAMLError as exc:
        raise _input_error(exc, path, text) from None


def compose_all(text: str, *, path: str) -> list[Any]:
    """The node graph of every document (ruamel `Node`s with marks; aliases are shared nodes).

    Uses libyaml's C composer when ruamel.yaml.clib is installed, with a no-op resolver:
    ruamel's own resolver costs more than the parse itself and the caller resolves plain
    scalars by go-yaml v3 rules anyway (sopsfile.yamlscalar). The sops file engine parses
    hundreds of files per run, so this is ~7x faster per file than YAML(typ="safe").
    Every node is tagged `str`/`map`/`seq` unless the text gives an explicit tag.
    """
    try:
        if _FastComposer is None or _nesting_bound(text) > MAX_C_NESTING:
            # libyaml's composer recurses in C and crashes the process on hostile nesting;
            # the pure composer raises RecursionError instead, which we report.
            return list(YAML(typ="safe", pure=True).compose_all(text))
        parser = _FastComposer(text)
        docs = []
        while parser.check_node():
            docs.append(parser.get_node())
        return docs
    except YAMLError as exc:
        raise _input_error(exc, path, text) from None
    except RecursionError:
        raise InputError("invalid YAML: nested too deeply", path=path) from None


MAX_C_NESTING = 100


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
