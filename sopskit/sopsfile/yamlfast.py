"""A fast reader for the plain YAML subset that sops itself writes (yaml.v3, block style).

Verification of a repository parses hundreds of small files, and composing them with
libyaml costs more than everything else together (Node and Mark objects for every scalar).
Files written by sops use only: block mappings and sequences indented with spaces, `- key:`
compact mappings, plain / single-quoted / double-quoted one-line scalars and `|` `|-` `|+`
block scalars. This reader accepts exactly that and returns None for anything else (comments,
flow collections, anchors, tags, multi-line plain or quoted scalars, several documents,
tabs, odd characters, errors), so the caller falls back to the full composer. Its trees are
checked against the composer's in tests/sopsfile/test_yamlfast.py.
"""

from __future__ import annotations

import json
import re

from sopskit.sopsfile.tree import Branch, Item, Scalar, ScalarValue, Seq
from sopskit.sopsfile.yamlscalar import resolve_plain

_UNSUPPORTED = re.compile(
    r"[#\t\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x85\ufeff\u2028\u2029]|^(---|\.\.\.)", re.M)
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*\Z")
_BAD_PLAIN_START = frozenset("[]{},&*!|>'\"%@`?:#")
_JSON_ESCAPE = re.compile(r'\\(?![\\"/bfnrt]|u[0-9a-fA-F]{4})')

_SURROGATE = re.compile("[\ud800-\udfff]")


class _Unsupported(Exception):
    """Outside the subset: let the full composer handle (or reject) the text."""


def load(text: str) -> list[Branch] | None:
    """The single document of `text` as a branch, or None when `text` is not in the subset."""
    start = 4 if text.startswith("---\n") else 0  # one explicit document start is fine
    if not text.endswith("\n") or _UNSUPPORTED.search(text, start):
        return None
    reader = _Reader(text[start:-1].split("\n"), first_line=2 if start else 1)
    try:
        branch = reader.mapping(0)
        reader.skip_blank()
        if reader.i < len(reader.lines) or not branch:
            return None
    except _Unsupported:
        return None
    return [branch]


class _Reader:
    def __init__(self, lines: list[str], *, first_line: int) -> None:
        self.lines = lines
        self.i = 0
        self.offset = first_line  # 1-based line number of lines[0]
        # (indentation, content) per line, None for blank lines: computed once.
        self.info: list[tuple[int, str] | None] = [
            (len(line) - len(content), content) if (content := line.lstrip(" ")) else None
            for line in lines]

    def skip_blank(self) -> None:
        info, i = self.info, self.i
        while i < len(info) and info[i] is None:
            i += 1
        self.i = i

    def peek(self) -> tuple[int, str] | None:
        """(indentation, content) of the next non-blank line."""
        self.skip_blank()
        return self.info[self.i] if self.i < len(self.info) else None

    def block(self, indent: int) -> Branch | Seq:
        nxt = self.peek()
        if nxt is None or nxt[0] != indent:
            raise _Unsupported
        return self.sequence(indent) if _is_dash(nxt[1]) else self.mapping(indent)

    def mapping(self, indent: int) -> Branch:
        branch, seen = Branch(), set()
        while (nxt := self.peek()) is not None and nxt[0] == indent and not _is_dash(nxt[1]):
            key, rest = _split_key(nxt[1])
            if key in seen:
                raise _Unsupported
            seen.add(key)
            line = self.i + self.offset
            branch.append(Item(key, self.value(rest, indent, line, in_map=True), line))
        if (nxt := self.peek()) is not None and nxt[0] > indent:
            raise _Unsupported  # a deeper line nobody owns: not the subset
        return branch

    def sequence(self, indent: int) -> Seq:
        seq = Seq()
        while (nxt := self.peek()) is not None and nxt[0] == indent and _is_dash(nxt[1]):
            rest = nxt[1][1:]
            body = rest.lstrip(" ")
            line = self.i + self.offset
            if body and (_split_key_or_none(body) is not None or _is_dash(body)):
                # Compact "- key: v" / "- - x": re-read the line with the dash as a space.
                column = indent + 1 + len(rest) - len(body)
                self.info[self.i] = (column, body)
                seq.append(self.block(column))
            else:
                seq.append(self.value(body.rstrip(" "), indent, line, in_map=False))
        return seq

    def value(self, rest: str, indent: int, line: int, *, in_map: bool) -> Branch | Seq | Scalar:
        self.i += 1
        if not rest:
            nxt = self.peek()
            if nxt is not None and (nxt[0] > indent or (in_map and nxt[0] == indent
                                                         and _is_dash(nxt[1]))):
                return self.block(nxt[0])
            return Scalar(None, line)
        if rest[0] == "|":
            return Scalar(self.literal(rest, indent), line)
        if rest in ("[]", "{}"):  # old sops writes `kms: []`
            node: Branch | Seq = Seq() if rest == "[]" else Branch()
            nxt = self.peek()
            if nxt is not None and nxt[0] > indent:
                raise _Unsupported
            return node
        value = _scalar(rest)
        nxt = self.peek()
        if nxt is not None and nxt[0] > indent:
            raise _Unsupported  # a multi-line scalar
        return Scalar(value, line)

    def literal(self, header: str, indent: int) -> str:
        if header not in ("|", "|-", "|+"):
            raise _Unsupported
        start, content_indent, leading = self.i, None, 0
        body: list[str] = []
        while self.i < len(self.lines):
            line = self.lines[self.i]
            stripped = line.lstrip(" ")
            width = len(line) - len(stripped)
            if stripped:
                if width <= indent:
                    break
                content_indent = content_indent or width
                if width < content_indent or leading > content_indent:
                    raise _Unsupported
            elif content_indent is None:
                leading = max(leading, width)
            elif width > content_indent:
                raise _Unsupported  # spaces-only lines longer than the indent carry content
            body.append(line[content_indent:] if stripped else "")
            self.i += 1
        if content_indent is None or self.i == start:
            raise _Unsupported
        return _chomp(body, header)


def _chomp(body: list[str], header: str) -> str:
    """Block-scalar chomping (every line ends with a break: the text ends with one)."""
    core = body[:]
    trailing = 0
    while core and core[-1] == "":
        core.pop()
        trailing += 1
    text = "\n".join(core)
    if header == "|-":
        return text
    if header == "|":
        return text + "\n"
    return text + "\n" * (trailing + 1)


def _is_dash(content: str) -> bool:
    return content == "-" or content.startswith("- ")


def _split_key_or_none(content: str) -> tuple[str, str] | None:
    try:
        return _split_key(content)
    except _Unsupported:
        return None


def _split_key(content: str) -> tuple[str, str]:
    if content.startswith('"'):
        end = content.find('":', 1)
        if end < 0:
            raise _Unsupported
        key, rest = _double(content[: end + 1]), content[end + 2:]
    else:
        name, sep, rest = content.partition(":")
        if not sep or not _PLAIN_KEY.match(name) or not isinstance(resolve_plain(name), str):
            raise _Unsupported
        key = name
    if rest and not rest.startswith(" "):
        raise _Unsupported
    return key, rest.strip(" ")


def _scalar(text: str) -> ScalarValue:
    if text[0] == '"':
        return _double(text)
    if text[0] == "'":
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != "'" or "'" in inner.replace("''", ""):
            raise _Unsupported
        return inner.replace("''", "'")
    if text[0] in _BAD_PLAIN_START or ": " in text or text.endswith(":") or _is_dash(text):
        raise _Unsupported
    return resolve_plain(text)


def _double(text: str) -> str:
    if len(text) < 2 or text[-1] != '"' or _JSON_ESCAPE.search(text):
        raise _Unsupported
    try:
        value = json.loads(text)
    except ValueError:
        raise _Unsupported from None
    if not isinstance(value, str) or _SURROGATE.search(value):
        raise _Unsupported  # a lone surrogate escape: the composer names the error
    return value
