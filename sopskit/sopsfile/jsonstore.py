"""Parse JSON into sops' ordered tree (stores/json/store.go: treeBranchFromJSONDecoder).

A small recursive-descent reader (strings decoded by the stdlib's C `scanstring`) because the
stdlib `json` module loses what sops keeps: key order *and duplicates* (the MAC covers both)
and the line of each value. Numbers: int when it fits int64, else float (sops 3.13.2,
PR #2222); `null` values are kept as Scalar(None), which the walk skips.
"""

from __future__ import annotations

import bisect
import math
import re
from json.decoder import scanstring  # type: ignore[attr-defined]

from sopskit.errors import InputError
from sopskit.sopsfile.tree import Branch, Item, Scalar, Seq

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?")
_SURROGATE = re.compile("[\ud800-\udfff]")
_LITERALS = {"true": True, "false": False, "null": None}
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_MAX_DEPTH = 500


class _Reader:
    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.pos = 0
        self.newlines = [m.start() for m in re.finditer("\n", text)]

    def line(self, pos: int | None = None) -> int:
        return bisect.bisect_left(self.newlines, self.pos if pos is None else pos) + 1

    def fail(self, what: str) -> InputError:
        return InputError(f"invalid JSON: {what}", path=self.path, line=self.line())

    def skip(self) -> str:
        self.pos = _WS.match(self.text, self.pos).end()  # type: ignore[union-attr]
        return self.text[self.pos: self.pos + 1]

    def expect(self, char: str) -> None:
        if self.skip() != char:
            raise self.fail(f"expected {char!r}")
        self.pos += 1

    def string(self) -> str:
        if self.skip() != '"':
            raise self.fail("expected a string")
        try:
            value, self.pos = scanstring(self.text, self.pos + 1, True)
        except ValueError:
            raise self.fail("unterminated or invalid string") from None
        if _SURROGATE.search(value):
            # encoding/json (decode.go unquote) turns a `\\uD800` escape that is not half of a
            # pair into U+FFFD; kept as is, it could not be encoded (MAC, output) at all.
            value = _SURROGATE.sub("\ufffd", value)
        return str(value)

    def value(self, depth: int) -> Branch | Seq | Scalar:
        if depth > _MAX_DEPTH:
            raise self.fail("nested too deeply")
        char = self.skip()
        line = self.line()
        if char == "{":
            return self.obj(depth)
        if char == "[":
            return self.array(depth)
        if char == '"':
            return Scalar(self.string(), line)
        return Scalar(self.scalar(), line)

    def scalar(self) -> int | float | bool | None:
        for word, val in _LITERALS.items():
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return val
        m = _NUMBER.match(self.text, self.pos)
        if not m or m.end() == self.pos:
            raise self.fail("unexpected character")
        self.pos = m.end()
        if not m[1] and not m[2] and len(m[0]) <= 20:  # longer: beyond int64 (and int())
            number = int(m[0])
            if INT64_MIN <= number <= INT64_MAX:
                return number
        number_f = float(m[0])
        if math.isinf(number_f):
            # encoding/json: "cannot unmarshal number ... into Go value of type float64"
            raise self.fail("number out of range")
        return number_f

    def obj(self, depth: int) -> Branch:
        self.pos += 1
        branch = Branch()
        if self.skip() == "}":
            self.pos += 1
            return branch
        while True:
            self.skip()
            line = self.line()
            key = self.string()
            self.expect(":")
            branch.append(Item(key, self.value(depth + 1), line))
            if self.skip() == ",":
                self.pos += 1
                continue
            self.expect("}")
            return branch

    def array(self, depth: int) -> Seq:
        self.pos += 1
        seq = Seq()
        if self.skip() == "]":
            self.pos += 1
            return seq
        while True:
            seq.append(self.value(depth + 1))
            if self.skip() == ",":
                self.pos += 1
                continue
            self.expect("]")
            return seq


def load(text: str, *, path: str) -> Branch:
    """The top-level object of `text` (sops: "Expected JSON object start")."""
    reader = _Reader(text, path)
    if reader.skip() != "{":
        raise reader.fail("the top level must be an object")
    branch = reader.obj(0)
    if reader.skip():
        raise reader.fail("unexpected data after the top-level object")
    return branch
