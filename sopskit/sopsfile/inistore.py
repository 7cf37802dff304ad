"""Parse INI files as sops does through gopkg.in/ini.v1 (stores/ini/store.go).

Each section is a branch item (the implicit `DEFAULT` section first), values are strings.
Mirrored go-ini rules: lines are left-trimmed; `#`/`;` lines are comments that attach to the
next section (before it) or key (sops puts a key's comment *after* the key); `=` or `:`
separates key and value; values lose inline comments (`#`/`;`), surrounding quotes, and
continue over lines ending in `\\`; `\"\"\"` and backticks quote (multi-line) values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sopskit.errors import InputError
from sopskit.sopsfile.tree import Branch, Comment, Item, Scalar

DEFAULT_SECTION = "DEFAULT"


@dataclass
class IniSection:
    name: str
    comment: str = ""
    comment_line: int | None = None
    line: int | None = None
    keys: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # value, comment, line


class _Parser:
    def __init__(self, text: str, path: str) -> None:
        self.lines = text.removeprefix("\ufeff").split("\n")
        self.path = path
        self.i = 0
        self.sections = [IniSection(DEFAULT_SECTION)]
        self.comment: list[str] = []
        self.comment_line: int | None = None

    def fail(self, what: str, line: int) -> InputError:
        return InputError(f"invalid INI: {what}", path=self.path, line=line)

    def run(self) -> list[IniSection]:
        while self.i < len(self.lines):
            number = self.i + 1
            line = self.lines[self.i].rstrip("\r").lstrip()
            self.i += 1
            if not line:
                continue
            if line[0] in "#;":
                self.comment_line = self.comment_line or number
                self.comment.append(line)
            elif line[0] == "[":
                self.section(line, number)
            else:
                self.key(line, number)
        return self.sections

    def take_comment(self) -> tuple[str, int | None]:
        text, line = "\n".join(self.comment), self.comment_line
        self.comment, self.comment_line = [], None
        return text, line

    def section(self, line: str, number: int) -> None:
        close = line.rfind("]")
        if close < 0:
            raise self.fail("unclosed section header", number)
        comment, cline = self.take_comment()
        self.sections.append(IniSection(line[1:close].strip(), comment, cline, number))

    def key(self, line: str, number: int) -> None:
        name, offset = self.key_name(line, number)
        value = self.value(line[offset:])
        comment, _ = self.take_comment()
        keys = self.sections[-1].keys
        if name in keys:  # go-ini without shadows: the last value wins, first position kept
            old = keys[name]
            keys[name] = (value, comment or old[1], old[2])
        else:
            keys[name] = (value, comment, number)

    def key_name(self, line: str, number: int) -> tuple[str, int]:
        quote = '"""' if line.startswith('"""') and len(line) > 6 else line[0]
        if quote in ('"""', '"', "`"):
            start = len(quote)
            pos = line.find(quote, start)
            if pos < 0:
                raise self.fail("missing closing quote of a key", number)
            rel = _index_any(line[pos + start:], "=:")
            if rel < 0:
                raise self.fail("no '=' or ':' after the key", number)
            return line[start:pos].strip(), pos + rel + start + 1
        end = _index_any(line, "=:")
        if end < 0:
            raise self.fail("line is neither a section, a comment nor key = value", number)
        if end == 0:
            raise self.fail("empty key name", number)
        return line[:end].strip(), end + 1

    def value(self, raw: str) -> str:
        line = raw.lstrip()
        if not line:
            return ""
        quote = '"""' if len(line) > 3 and line.startswith('"""') else ("`" if line[0] == "`"
                                                                       else "")
        if quote:
            body = line[len(quote):]
            pos = body.rfind(quote)
            return body[:pos] if pos >= 0 else self.multiline(body, quote)
        line = line.strip()
        if line.endswith("\\"):
            return self.continuation(line[:-1])
        cut = _index_any(line, "#;")
        if cut > -1:
            line = line[:cut].strip()
        if len(line) >= 2 and line[0] == line[-1] and line[0] in "'\"":
            line = line[1:-1]
        return line

    def multiline(self, first: str, quote: str) -> str:
        parts = [first]
        while self.i < len(self.lines):
            nxt = self.lines[self.i].rstrip("\r")
            self.i += 1
            pos = nxt.find(quote)
            if pos >= 0:
                parts.append(nxt[:pos])
                return "\n".join(parts)
            parts.append(nxt)
        raise self.fail("missing closing " + quote, self.i)

    def continuation(self, value: str) -> str:
        while self.i < len(self.lines):
            nxt = self.lines[self.i].strip()
            self.i += 1
            if not nxt:
                break
            value += nxt
            if not value.endswith("\\"):
                break
            value = value[:-1]
        return value


def _index_any(text: str, chars: str) -> int:
    found = [p for p in (text.find(c) for c in chars) if p >= 0]
    return min(found) if found else -1


def parse_sections(text: str, *, path: str) -> list[IniSection]:
    return _Parser(text, path).run()


def strip_comment(comment: str) -> str:
    """stores/ini/store.go: stripCommentChar."""
    if comment.startswith(";"):
        return comment.lstrip("; ")
    if comment.startswith("#"):
        return comment.lstrip("# ")
    return comment


def to_branch(sections: list[IniSection]) -> Branch:
    """stores/ini/store.go: treeBranchesFromIni (without the `sops` section)."""
    branch = Branch()
    for sec in sections:
        items = Branch()
        if sec.comment:
            items.append(Comment(strip_comment(sec.comment), sec.comment_line))
        for key, (value, comment, line) in sec.keys.items():
            items.append(Item(key, Scalar(value, line), line))
            if comment:
                items.append(Comment(strip_comment(comment), line))
        branch.append(Item(sec.name, items, sec.line))
    return branch
