"""Go RE2 semantics for every regular expression sops matches with Go's `regexp`.

sops compiles `encrypted_regex`, `unencrypted_regex`, `encrypted_comment_regex`,
`unencrypted_comment_regex` (file metadata and `.sops.yaml`) and `.sops.yaml` `path_regex`
with Go's `regexp` (RE2 syntax) and matches with an unanchored search (`regexp.Match`,
`regexp.MatchString`). Python's `re` differs on exactly the patterns people use:
`((?i)(pass|secret($|[^N])|key|token))` (a flag group inside a group, rejected by `re`),
`[[:upper:]]` (a POSIX class: `re` reads a character set), `\\p{Lu}` (a Unicode class),
and `$` (RE2: end of text only; `re`: also before a final newline). `re` also backtracks, so a
file's `^(a+)+$` could stall a scan for minutes. Everything here runs on Google's RE2
(`google-re2`), which guarantees matching in time linear in the text.

C++ RE2 accepts a few things Go's parser rejects; those are rejected here too so that "valid"
means "valid to sops": `\\C` (any byte), and capture groups nested 1000 deep (Go:
"expression nests too deeply"; sops then ignores the rule or fails).
"""

from __future__ import annotations

import functools
import re as _pyre

import re2

__all__ = ["InvalidRegex", "Regex", "compile", "is_valid", "short", "try_compile"]

_MEMO_LIMIT = 4096
_MAX_HEIGHT = 1000  # Go regexp/syntax maxHeight
_SURROGATE = _pyre.compile("[\ud800-\udfff]")


class InvalidRegex(ValueError):
    """A pattern Go's regexp (and so sops) rejects; the message is RE2's reason."""


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # RE2 would print every parse error on stderr
    return options


class Regex:
    """One compiled pattern with Go's `regexp.MatchString` semantics (unanchored search)."""

    __slots__ = ("_compiled", "_memo", "pattern")

    def __init__(self, pattern: str, compiled: re2._Regexp) -> None:
        self.pattern = pattern
        self._compiled = compiled
        self._memo: dict[str, bool] = {}

    def search(self, text: str) -> bool:
        """True when the pattern matches anywhere in `text` (Go `regexp.MatchString`)."""
        hit = self._memo.get(text)
        if hit is None:
            hit = self._compiled.search(_go_string(text)) is not None
            if len(self._memo) < _MEMO_LIMIT:
                self._memo[text] = hit
        return hit

    def fullmatch(self, text: str) -> bool:
        """True when the pattern matches the whole of `text`."""
        return self._compiled.fullmatch(_go_string(text)) is not None

    def __repr__(self) -> str:
        return f"Regex({self.pattern!r})"


def _go_string(text: str) -> str:
    """Go strings are UTF-8: a lone surrogate (from a JSON `\\ud800` escape) decodes to
    U+FFFD in Go's encoding/json, so match it as U+FFFD instead of failing to encode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def _go_rejects(pattern: str) -> str | None:
    """What Go's regexp/syntax rejects although C++ RE2 accepts it (None: nothing)."""
    i, n = 0, len(pattern)
    depth = 0
    while i < n:
        char = pattern[i]
        if char == "[":
            i = _class_end(pattern, i)
            continue
        if (char == "(" and not pattern.startswith("(?", i)) or pattern.startswith(
                ("(?P<", "(?<"), i):
            # Go's parser (regexp/syntax checkHeight) refuses a syntax tree more than
            # _MAX_HEIGHT deep; every capture group is one level (C++ RE2 has no such limit).
            # Counting captures only never refuses what Go accepts.
            depth += 1
            if depth >= _MAX_HEIGHT:
                return "expression nests too deeply"
        elif char == ")" and depth:
            depth -= 1
        if char != "\\":
            i += 1
            continue
        nxt = pattern[i + 1] if i + 1 < n else ""
        if nxt == "Q":  # \Q...\E is literal text in both: nothing inside is an escape
            end = pattern.find("\\E", i + 2)
            i = n if end < 0 else end + 2
            continue
        if nxt == "C":
            return "invalid escape sequence: \\C"
        i += 2
    return None


def _class_end(pattern: str, start: int) -> int:
    """The index after the character class opening at `start` (`[]a]`, `[^]a]`,
    `[[:alpha:]]` and escapes included), or the end of the pattern if it never closes."""
    i, n = start + 1, len(pattern)
    if i < n and pattern[i] == "^":
        i += 1
    if i < n and pattern[i] == "]":
        i += 1
    while i < n:
        if pattern[i] == "\\":
            i += 2
        elif pattern.startswith("[:", i) and (close := pattern.find(":]", i + 2)) >= 0:
            i = close + 2
        elif pattern[i] == "]":
            return i + 1
        else:
            i += 1
    return n


@functools.lru_cache(maxsize=256)
def compile(pattern: str) -> Regex:
    """The pattern compiled with RE2; InvalidRegex when sops (Go regexp) would reject it."""
    reason = _go_rejects(pattern)
    if reason is not None:
        raise InvalidRegex(reason)
    try:
        compiled = re2.compile(_go_string(pattern), _options())
    except re2.error as exc:
        detail = exc.args[0] if exc.args else "invalid"
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise InvalidRegex(str(detail)) from None
    return Regex(pattern, compiled)


def try_compile(pattern: str) -> Regex | None:
    """The compiled pattern, or None where sops ignores the error (it then matches nothing)."""
    try:
        return compile(pattern)
    except InvalidRegex:
        return None


def is_valid(pattern: str) -> bool:
    return try_compile(pattern) is not None


def short(exc: InvalidRegex, limit: int = 80) -> str:
    """RE2's reason, cut to one short line (it quotes the pattern, which may be long)."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
