"""JSON output exactly as sops 3.11 prints it (stores/json/store.go: encodeTree, then
encoding/json Indent with a tab, then a newline). Comments are dropped."""

from __future__ import annotations

import base64

from sopskit.sopsfile.gorender import format_json_float
from sopskit.sopsfile.tree import Branch, Comment, GoTime, Item, Scalar, Seq

# encoding/json escapes these (HTML-safe output) besides the usual ones.
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b",
            "\f": "\\f", "<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
            "\u2028": "\\u2028", "\u2029": "\\u2029"}


def go_string(text: str) -> str:
    out = []
    for ch in text:
        esc = _ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ch < " ":
            out.append(f"\\u{ord(ch):04x}")
        elif "\ud800" <= ch <= "\udfff":
            out.append("\ufffd")  # invalid UTF-8 becomes U+FFFD
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_json_float(value)
    if isinstance(value, GoTime):
        return go_string(value.rfc3339)
    if isinstance(value, bytes):
        return go_string(base64.b64encode(value).decode())
    return go_string(str(value))


def _node(node: Branch | Seq | Scalar, depth: int) -> str:
    if isinstance(node, Scalar):
        return _scalar(node.value)
    pad, inner = "\t" * depth, "\t" * (depth + 1)
    if isinstance(node, Branch):
        parts = [f"{inner}{go_string(i.key)}: {_node(i.value, depth + 1)}"
                 for i in node if isinstance(i, Item)]
        return "{\n" + ",\n".join(parts) + f"\n{pad}}}" if parts else "{}"
    parts = [inner + _node(v, depth + 1) for v in node if not isinstance(v, Comment)]
    return "[\n" + ",\n".join(parts) + f"\n{pad}]" if parts else "[]"


def emit(branch: Branch) -> bytes:
    return (_node(branch, 0) + "\n").encode("utf-8", "surrogatepass")
