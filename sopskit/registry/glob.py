"""Registry path globs: parsing, and the anchored regex each one compiles to.

Syntax (repository-relative POSIX paths): `*` any run of characters within one segment,
`**` as a whole segment any number of segments (zero included), `?` one character,
`[abc]` / `[a-z]` / `[!a]` (or `[^a]`) one character of a class, `{a,b}` alternation
(nestable), `\\x` a literal `x`. No part but a literal `/` ever matches `/`.

A glob compiles once to a token sequence and from it to one regex, which is both the
matcher sopskit uses and the `path_regex` written to `.sops.yaml`. The regex uses only
syntax on which Python `re` and Go RE2 (sops' `regexp.MatchString`) agree: `(?:...)`,
`[...]`, `.*`, and backslash escapes of punctuation only (RE2 rejects `\\ `).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sopskit import regex as re2go

MAX_ALTERNATIVES = 256
MAX_BRACE_DEPTH = 32  # the parser recurses per level; no real rule nests braces this deep


def shown(pattern: str, limit: int = 80) -> str:
    """A pattern for a one-line message: quoted, cut after `limit` characters."""
    return repr(pattern if len(pattern) <= limit else pattern[:limit] + "…")


class GlobError(ValueError):
    """A glob that cannot be parsed; the message says why (no path, the caller adds it)."""


@dataclass(frozen=True)
class Lit:
    ch: str


@dataclass(frozen=True)
class AnyChar:
    """`?`: one character other than `/`."""


@dataclass(frozen=True)
class Cls:
    """`[...]`: one character (never `/`) in (or, negated, outside) `ranges`."""

    ranges: tuple[tuple[str, str], ...]
    negated: bool

    def matches(self, ch: str) -> bool:
        if ch == "/":
            return False
        inside = any(lo <= ch <= hi for lo, hi in self.ranges)
        return inside != self.negated


@dataclass(frozen=True)
class Star:
    """`*`: any run of characters other than `/`."""


@dataclass(frozen=True)
class Rest:
    """A trailing `**`: anything, slashes included."""


@dataclass(frozen=True)
class Segs:
    """A leading or inner `**/`: nothing, or any text ending in `/` (whole segments)."""


@dataclass(frozen=True)
class Alt:
    """`{a,b}`: one of several token sequences."""

    options: tuple[tuple[Token, ...], ...]


Token = Lit | AnyChar | Cls | Star | Rest | Segs | Alt
Seq = tuple[Token, ...]

@dataclass(frozen=True)
class _Stars:
    n: int


@dataclass(frozen=True)
class _Braces:
    options: tuple[tuple[object, ...], ...]


def parse(pattern: str) -> Seq:
    """The token sequence of `pattern`; raises GlobError naming the problem."""
    _check_shape(pattern)
    items, end = _parse_items(pattern, 0, top=True)
    if end != len(pattern):
        raise GlobError(f"unexpected {pattern[end]!r} at column {end + 1}")
    if _needs_expansion(items):
        flats = _expand(items)
        seqs = tuple(_segments(flat) for flat in flats)
        return seqs[0] if len(seqs) == 1 else (Alt(seqs),)
    return _segments(items)


def _check_shape(pattern: str) -> None:
    if not pattern:
        raise GlobError("empty pattern")
    depth = deepest = 0
    escaped = False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in "{}":
            depth += 1 if ch == "{" else -1
            deepest = max(deepest, depth)
    if deepest > MAX_BRACE_DEPTH:
        raise GlobError(f"braces nested more than {MAX_BRACE_DEPTH} deep")
    bad = next((c for c in pattern if ord(c) < 0x20 or ord(c) == 0x7F), None)
    if bad is not None:  # a newline or tab would break every listing that shows the rule
        raise GlobError(f"control character U+{ord(bad):04X} at column "
                        f"{pattern.index(bad) + 1}")
    if pattern.startswith("/"):
        raise GlobError("must be relative to the repository root (no leading /)")
    if pattern.endswith("/"):
        raise GlobError("must name files, not end with /")
    for seg in pattern.split("/"):
        if seg in ("", ".", ".."):
            raise GlobError(f"empty, '.' or '..' path segment in {pattern!r}")


def _parse_items(p: str, i: int, *, top: bool) -> tuple[list[object], int]:
    """Items up to the end, or (inside braces) up to an unescaped `,` or `}`."""
    out: list[object] = []
    while i < len(p):
        if not top and p[i] in ",}":
            return out, i
        item, i = _parse_one(p, i)
        out.append(item)
    if not top:
        raise GlobError("unterminated '{'")
    return out, i


def _parse_one(p: str, i: int) -> tuple[object, int]:
    """One item starting at `p[i]` and the index after it."""
    ch = p[i]
    if ch == "\\":
        if i + 1 == len(p):
            raise GlobError("trailing backslash")
        return Lit(p[i + 1]), i + 2
    if ch == "*":
        j = i
        while j < len(p) and p[j] == "*":
            j += 1
        return _Stars(j - i), j
    if ch == "?":
        return AnyChar(), i + 1
    if ch == "[":
        return _parse_class(p, i)
    if ch == "{":
        return _parse_braces(p, i)
    if ch in "}],":
        raise GlobError(f"unbalanced {ch!r} at column {i + 1} (escape it as \\{ch})")
    return Lit(ch), i + 1


def _parse_braces(p: str, i: int) -> tuple[_Braces, int]:
    options: list[tuple[object, ...]] = []
    i += 1
    while True:
        items, i = _parse_items(p, i, top=False)
        options.append(tuple(items))
        if p[i] == "}":
            break
        i += 1  # the comma
    if len(options) < 2:
        raise GlobError("'{...}' needs at least two alternatives separated by ','")
    return _Braces(tuple(options)), i + 1


def _parse_class(p: str, i: int) -> tuple[Cls, int]:
    j = i + 1
    negated = j < len(p) and p[j] in "!^"
    if negated:
        j += 1
    ranges: list[tuple[str, str]] = []
    first = True
    while j < len(p) and (p[j] != "]" or first):
        lo, j = _class_char(p, j)
        if j + 1 < len(p) and p[j] == "-" and p[j + 1] != "]":
            hi, j = _class_char(p, j + 1)
            if hi < lo:
                raise GlobError(f"reversed range {lo}-{hi} in character class")
            ranges.append((lo, hi))
        else:
            ranges.append((lo, lo))
        first = False
    if j >= len(p):
        raise GlobError("unterminated '['")
    if any(lo <= "/" <= hi for lo, hi in ranges) and not negated:
        raise GlobError("a character class cannot match '/'")
    return Cls(tuple(ranges), negated), j + 1


def _class_char(p: str, j: int) -> tuple[str, int]:
    if p[j] == "\\" and j + 1 < len(p):
        return p[j + 1], j + 2
    return p[j], j + 1


def _needs_expansion(items: list[object] | tuple[object, ...]) -> bool:
    """Braces whose options hold `/` or `**` change the segment structure: expand them."""
    for item in items:
        if isinstance(item, _Braces) and any(
            _has_slash_or_globstar(opt) or _needs_expansion(opt) for opt in item.options
        ):
            return True
    return False


def _has_slash_or_globstar(items: tuple[object, ...]) -> bool:
    return any(i == Lit("/") or (isinstance(i, _Stars) and i.n > 1) for i in items) or any(
        _has_slash_or_globstar(o) for i in items if isinstance(i, _Braces) for o in i.options
    )


def _expand(items: list[object] | tuple[object, ...]) -> list[tuple[object, ...]]:
    """Every brace-free item sequence `items` stands for (at most MAX_ALTERNATIVES)."""
    results: list[tuple[object, ...]] = [()]
    for item in items:
        if isinstance(item, _Braces):
            tails = [t for opt in item.options for t in _expand(opt)]
            results = [r + t for r in results for t in tails]
        else:
            results = [(*r, item) for r in results]
        if len(results) > MAX_ALTERNATIVES:
            raise GlobError(f"more than {MAX_ALTERNATIVES} alternatives")
    return results


def _segments(items: list[object] | tuple[object, ...]) -> Seq:
    """Tokens for brace-expanded (or brace-local) items: `**` segments become Segs/Rest."""
    segments: list[list[object]] = [[]]
    for item in items:
        if item == Lit("/"):
            segments.append([])
        else:
            segments[-1].append(item)
    if any(not seg for seg in segments):
        raise GlobError("empty path segment")
    out: list[Token] = []
    for index, seg in enumerate(segments):
        last = index == len(segments) - 1
        if len(seg) == 1 and isinstance(seg[0], _Stars) and seg[0].n > 1:
            out.append(Rest() if last else Segs())
            continue
        out.extend(_segment_tokens(seg))
        if not last:
            out.append(Lit("/"))
    return tuple(out)


def _segment_tokens(seg: list[object] | tuple[object, ...]) -> list[Token]:
    out: list[Token] = []
    for item in seg:
        if isinstance(item, _Stars):
            out.append(Star())  # `**` inside a segment is just `*`, as in gitignore
        elif isinstance(item, _Braces):
            out.append(Alt(tuple(tuple(_segment_tokens(o)) for o in item.options)))
        else:
            assert isinstance(item, Lit | AnyChar | Cls)
            out.append(item)
    return out


# --- regex rendering ------------------------------------------------------------------------

_SPECIAL = set("\\.+*?()|[]{}^$")
_CLASS_SPECIAL = set("\\]^-[&~|")


def _escape(ch: str) -> str:
    return "\\" + ch if ch in _SPECIAL else ch


def _class_escape(ch: str) -> str:
    return "\\" + ch if ch in _CLASS_SPECIAL else ch


def render_seq(seq: Seq) -> str:
    """The regex body (unanchored) of a token sequence."""
    return "".join(_render_token(t) for t in seq)


def _render_token(tok: Token) -> str:
    if isinstance(tok, Lit):
        return _escape(tok.ch)
    if isinstance(tok, AnyChar):
        return "[^/]"
    if isinstance(tok, Star):
        return "[^/]*"
    if isinstance(tok, Rest):
        return ".*"
    if isinstance(tok, Segs):
        return "(?:.*/)?"
    if isinstance(tok, Cls):
        body = "".join(_class_escape(lo) if lo == hi else
                       f"{_class_escape(lo)}-{_class_escape(hi)}" for lo, hi in tok.ranges)
        return f"[^/{body}]" if tok.negated else f"[{body}]"
    return "(?:" + "|".join(render_seq(o) for o in tok.options) + ")"


def anchored(body: str) -> str:
    return f"^{body}$"


@dataclass(frozen=True)
class Glob:
    """A parsed glob: its source text, tokens, and the anchored regex it compiles to."""

    pattern: str
    tokens: Seq

    @classmethod
    def compile(cls, pattern: str) -> Glob:
        return cls(pattern, parse(pattern))

    @cached_property
    def regex(self) -> str:
        """The anchored regex, exactly as written to `.sops.yaml` as `path_regex`."""
        return anchored(render_seq(self.tokens))

    @cached_property
    def _compiled(self) -> re2go.Regex:
        return re2go.compile(self.regex)

    def match(self, relpath: str) -> bool:
        """Whether the repository-relative POSIX path `relpath` matches."""
        # Matched as sops matches the path_regex written from it (Go RE2); fullmatch also
        # guards against a relpath with a newline.
        return self._compiled.fullmatch(relpath)
