"""YAML output in sops' style (yaml.v3, 4-space indent): equal data and comments to what
`sops --decrypt` prints; layout details (e.g. line comments) may differ.

A small emitter of our own rather than ruamel's dumper: the tree holds comments as entries
(not ruamel's comment attributes), and scalars must be quoted by yaml.v3 rules (a string that
yaml.v3 would read as another type, or a YAML 1.1 bool like `yes`, is double-quoted).
"""

from __future__ import annotations

import base64
import json
import math
import re

from sopskit.sopsfile.gorender import format_g
from sopskit.sopsfile.tree import Branch, Comment, GoTime, Item, Scalar, ScalarValue, Seq
from sopskit.sopsfile.yamlscalar import resolve_plain

INDENT = 4
# yaml.v3 encode.go: isOldBool / isBase60Float strings are double-quoted for YAML 1.1 readers.
_OLD_BOOLS = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N", "no", "No", "NO",
              "off", "Off", "OFF"}
_BASE60 = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_BAD_START = set("-?:,[]{}#&*!|>'\"%@` \t")


def _needs_double(text: str) -> bool:
    """yaml.v3 forces double quotes on strings that would read back as another type."""
    resolved = resolve_plain(text) if text else None
    return (not isinstance(resolved, str) or text in _OLD_BOOLS or text == "<<"
            or bool(_BASE60.match(text)))


def _plain_ok(text: str) -> bool:
    if not text or text[0] in _BAD_START or text[-1] in " \t:":
        return False
    return not (": " in text or " #" in text or "\t" in text or not text.isprintable())


def _single(text: str) -> str | None:
    """libyaml picks single quotes when plain is not allowed and nothing needs escaping."""
    if not text.isprintable():
        return None
    return "'" + text.replace("'", "''") + "'"


def _quoted(text: str) -> str:
    out = json.dumps(text, ensure_ascii=False)
    return "".join(ch if ch.isprintable() or ch in "\n" else f"\\u{ord(ch):04x}"
                   for ch in out) if not out.isprintable() else out


def _literal(text: str, pad: str) -> list[str] | None:
    """`|` / `|-` / `|+` block for multi-line strings, when the text allows it."""
    body, head = (text[:-1], "|") if text.endswith("\n") else (text, "|-")
    if body.endswith("\n"):
        head = "|+"  # keep the trailing empty lines
    if not body.strip("\n") or body[0] in " \t\n" or not body.replace(
            "\n", "").replace("\t", "").isprintable():
        return None
    return [head] + [pad + line if line else "" for line in body.split("\n")]


def scalar(value: ScalarValue) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return format_g(value)
    if isinstance(value, GoTime):
        return value.rfc3339
    if isinstance(value, bytes):
        return "!!binary " + base64.b64encode(value).decode()
    if _needs_double(value):
        return _quoted(value)
    if _plain_ok(value):
        return value
    return _single(value) or _quoted(value)


def _value_lines(value: ScalarValue, pad: str) -> list[str]:
    if isinstance(value, str) and "\n" in value:
        block = _literal(value, pad)
        if block:
            return block
    return [scalar(value)]


def _branch(node: Branch, depth: int) -> list[str]:
    pad = " " * (INDENT * depth)
    lines: list[str] = []
    for item in node:
        if isinstance(item, Comment):
            lines.append(f"{pad}#{item.text}")
        else:
            lines.extend(_entry(item, pad, depth))
    return lines


def _entry(item: Item, pad: str, depth: int) -> list[str]:
    key = scalar(item.key) if "\n" not in item.key else _quoted(item.key)
    value = item.value
    if isinstance(value, Scalar):
        first, *rest = _value_lines(value.value, pad + " " * INDENT)
        return [f"{pad}{key}: {first}", *rest]
    if not any(not isinstance(v, Comment) for v in value):
        return [f"{pad}{key}: {'{}' if isinstance(value, Branch) else '[]'}",
                *(f"{pad}{' ' * INDENT}#{c.text}" for c in value if isinstance(c, Comment))]
    inner = _branch(value, depth + 1) if isinstance(value, Branch) else _seq(value, depth + 1)
    return [f"{pad}{key}:", *inner]


def _seq(node: Seq, depth: int) -> list[str]:
    pad = " " * (INDENT * depth)
    lines: list[str] = []
    for item in node:
        if isinstance(item, Comment):
            lines.append(f"{pad}#{item.text}")
        elif isinstance(item, Scalar):
            first, *rest = _value_lines(item.value, pad + "  ")
            lines.extend([f"{pad}- {first}", *rest])
        else:
            lines.extend(_nested_in_seq(item, pad, depth))
    return lines


def _nested_in_seq(item: Branch | Seq, pad: str, depth: int) -> list[str]:
    if not any(not isinstance(v, Comment) for v in item):
        return [f"{pad}- {'{}' if isinstance(item, Branch) else '[]'}"]
    if isinstance(item, Seq):
        # yaml.v3 writes "- - x"; its indentation rules for deeper compact levels are
        # intricate, so a nested list starts on its own line (same data).
        return [f"{pad}-", *_seq(item, depth + 1)]
    # yaml.v3 layout: the mapping's own keys follow the dash ("- a: 1" / "  b: 2") while
    # everything nested under them keeps the full indent step from the dash column.
    out: list[str] = []
    for line in _branch(item, depth):
        own = line.startswith(pad) and line[len(pad):len(pad) + 1] not in ("", " ")
        out.append(f"{pad}{'  ' if out else '- '}{line[len(pad):]}" if own else line)
    return out


def emit(branches: list[Branch]) -> bytes:
    docs = []
    for branch in branches:
        lines = _branch(branch, 0)
        has_items = any(isinstance(i, Item) for i in branch)
        docs.append("\n".join(lines if has_items else [*lines, "{}"]) + "\n")
    return "---\n".join(docs).encode("utf-8", "surrogatepass")
