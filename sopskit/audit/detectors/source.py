"""The text of one file as detectors see it, and what a detector returns (`Hit`)."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

import re2

from sopskit.audit.finding import Severity


@dataclass(frozen=True)
class Hit:
    """A detector's raw result. `secret` is only fingerprinted, never shown; `detail` is
    shown and must not contain any part of the value. `last_line` is the end of the value's
    span (other hits inside it are the same secret seen by a less specific detector)."""

    rule: str
    line: int | None
    secret: str
    detail: str = ""
    severity: Severity | None = None
    last_line: int | None = None


@dataclass
class Source:
    """A decoded text file: repository-relative path, text, and line lookups."""

    path: str
    text: str
    _starts: list[int] | None = field(default=None, repr=False)
    _lookups: int = field(default=0, repr=False)
    _lower: str | None = field(default=None, repr=False)
    present: frozenset[str] | None = field(default=None, repr=False)  # see needles.present

    @property
    def lower(self) -> str:
        """The lower-cased text, for case-insensitive needles (computed once per file;
        offsets may differ from `text` for non-ASCII text)."""
        if self._lower is None:
            self._lower = self.text.lower()
        return self._lower

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def suffix(self) -> str:
        name = self.name
        return name[name.rfind("."):].lower() if "." in name else ""

    def line_starts(self) -> list[int]:
        if self._starts is None:
            starts = [0]
            find = self.text.find
            pos = find("\n")
            while pos != -1:
                starts.append(pos + 1)
                pos = find("\n", pos + 1)
            self._starts = starts
        return self._starts

    def line_of(self, offset: int) -> int:
        """1-based line number of a character offset. The first few lookups count newlines
        (C speed); building the table is a Python loop over every line, worth it only for
        a file with many hits (most files have one, often in a large file)."""
        if self._starts is None and self._lookups < 4:
            self._lookups += 1
            return self.text.count("\n", 0, offset) + 1
        return bisect.bisect_right(self.line_starts(), offset)

    def line_bounds(self, offset: int) -> tuple[int, int]:
        """Start and end offsets of the line holding `offset` (end excludes the newline)."""
        start = self.text.rfind("\n", 0, offset) + 1
        end = self.text.find("\n", offset)
        return start, (len(self.text) if end == -1 else end)


_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|x([0-9A-Fa-f]{2})|U([0-9A-Fa-f]{8}))")


def has_escapes(text: str) -> bool:
    return "\\" in text and _ESCAPE.search(text) is not None


def unescape(text: str) -> str:
    """`\\uXXXX`, `\\xXX` and `\\UXXXXXXXX` escapes (JSON, YAML double quotes) resolved;
    newline escapes are left alone, so line numbers stay those of the file."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2) or m.group(3), 16)), text)


_DOC_SEP = re.compile(r"^---[ \t]*(?:#.*)?$", re.M)
_KIND = re.compile(r"^kind:[ \t]*[\"']?([A-Za-z0-9]+)", re.M)
_JSON_KIND = re.compile(r"\"kind\"\s*:\s*\"([A-Za-z0-9]+)\"")
# Both line patterns in one RE2 pass over ASCII bytes: `re` tries a multi-line `^` at every
# position, which was half the scan of a 250 KB manifest such as Flux's gotk-components.
_SEP_OR_KIND = re2.compile(rb"(?m)^(?:---[ \t]*(?:#[^\n]*)?$|kind:[ \t]*[\"']?([A-Za-z0-9]+))")


def document_kinds(src: Source) -> list[tuple[int, str | None]]:
    """(start offset, top-level `kind`) of each YAML document, or one entry for JSON."""
    text = src.text
    if src.suffix == ".json":
        m = _JSON_KIND.search(text)
        return [(0, m.group(1) if m else None)]
    if text.isascii():
        out: list[tuple[int, str | None]] = [(0, None)]
        for m in _SEP_OR_KIND.finditer(text.encode("ascii")):
            kind = m.group(1)
            if kind is None:
                out.append((m.end(), None))
            elif out[-1][1] is None:
                out[-1] = (out[-1][0], kind.decode("ascii"))
        return out
    # `^---` (multi-line) is tried at every position by `re`: look for the dashes first.
    starts = [0] + ([m.end() for m in _DOC_SEP.finditer(text)] if "---" in text else [])
    out = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        m = _KIND.search(text, start, end)
        out.append((start, m.group(1) if m else None))
    return out


def kind_at(kinds: list[tuple[int, str | None]], offset: int) -> str | None:
    index = bisect.bisect_right(kinds, offset, key=_start) - 1
    return kinds[max(index, 0)][1]


def _start(kind: tuple[int, str | None]) -> int:
    return kind[0]
