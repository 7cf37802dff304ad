"""`sopskit diff` reports: text for a terminal, markdown for a pull-request comment, JSON
for bots. They show key paths, fingerprints and plaintext-stored values only."""

from __future__ import annotations

import json
import re
from dataclasses import asdict

from sopskit.printable import printable
from sopskit.review.diff import FileDiff, ValueChange

_SIGN = {"added": "+", "removed": "-", "changed": "~", "re-encrypted": "=", "unknown": "?"}
_KEY_NOTE = {
    "kept": "kept",
    "rotated": "rotated",
    "rotated?": "every value re-encrypted (data key rotated?): without a key, value changes "
                "cannot be told apart",
    "n/a": "",
}


def _detail(change: ValueChange) -> str:
    if not change.encrypted:
        old, new = (json.dumps(v) if v is not None else None for v in (change.old, change.new))
        if change.kind == "added":
            return f"{new} (plaintext)"
        if change.kind == "removed":
            return f"was {old} (plaintext)"
        return f"{old} -> {new} (plaintext)"
    if change.kind == "re-encrypted":
        return "value unchanged, new ciphertext"
    if change.kind == "unknown":
        return "new ciphertext (changed or not: only a key tells)"
    if change.old is None and change.new is None:
        return "ciphertext changed" if change.kind == "changed" else ""
    if change.kind == "added":
        return f"[{change.new}]"
    if change.kind == "removed":
        return f"was [{change.old}]"
    return f"[{change.old}] -> [{change.new}]"


def _summary(diff: FileDiff) -> list[str]:
    lines = []
    if diff.recipients_added:
        lines.append("recipients added: " + ", ".join(diff.recipients_added))
    if diff.recipients_removed:
        lines.append("recipients removed: " + ", ".join(diff.recipients_removed))
    if diff.crypt_rule:
        lines.append(f"crypt rule: {diff.crypt_rule[0]} -> {diff.crypt_rule[1]}")
    if _KEY_NOTE[diff.data_key]:
        lines.append(f"data key: {_KEY_NOTE[diff.data_key]}")
    if not diff.opened:
        lines.append("values: no key of yours opens both versions; changes are by ciphertext")
    lines.extend(f"problem: {p}" for p in diff.problems)
    return lines


def _title(diff: FileDiff) -> str:
    if diff.status == "renamed":
        return f"{diff.old_path} -> {diff.path} (renamed)"
    return f"{diff.path} ({diff.status})"


def text(diffs: list[FileDiff]) -> str:
    if not diffs:
        return "no sops file changed\n"
    out: list[str] = []
    for diff in diffs:
        out.append(printable(_title(diff)))
        out.extend(f"  {line}" for line in _summary(diff))
        names = [printable(c.key_path) for c in diff.changes]
        width = max(map(len, names), default=0)
        for c, name in zip(diff.changes, names, strict=True):
            out.append(f"  {_SIGN[c.kind]} {name.ljust(width)}  {c.kind:<12} "
                       f"{_detail(c)}".rstrip())
        if not diff.changes:
            out.append("  no value changed")
    return "\n".join(out) + "\n"


def _md_cell(text: str) -> str:
    """Table-cell text: a pipe, backtick or `<` from a key or a plaintext-stored value
    must not end the cell, open a code span or become HTML in the posted comment."""
    return (text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")
            .replace("<", "&lt;").replace("\n", " "))


def _md_code(text: str) -> str:
    """A code span that holds any text: a fence longer than its longest run of backticks
    (CommonMark), padded when the text starts or ends with one; pipes escaped for tables."""
    fence = max((len(m) for m in re.findall("`+", text)), default=0) + 1
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    body = text.replace("|", "\\|").replace("\n", " ")
    return f"{'`' * fence}{pad}{body}{pad}{'`' * fence}"


def markdown(diffs: list[FileDiff]) -> str:
    if not diffs:
        return "**sopskit diff**: no sops file changed.\n"
    out = [f"### sopskit diff: {len(diffs)} sops file(s) changed", ""]
    for diff in diffs:
        out.append(f"#### {_md_code(_title(diff))}")
        out.extend(f"- {_md_cell(line)}" for line in _summary(diff))
        if diff.changes:
            out += ["", "| | key path | change | detail |", "|---|---|---|---|"]
            out += [f"| {_SIGN[c.kind]} | {_md_code(c.key_path)} | {c.kind} | "
                    f"{_md_cell(_detail(c))} |" for c in diff.changes]
        else:
            out.append("- no value changed")
        out.append("")
    out.append("<sub>Encrypted values appear as 8-character fingerprints (equal fingerprint: "
               "equal value); values are never shown.</sub>")
    return "\n".join(out) + "\n"


def as_json(diffs: list[FileDiff]) -> str:
    return json.dumps({"files": [asdict(d) for d in diffs]}, indent=2) + "\n"


RENDERERS = {"text": text, "markdown": markdown, "json": as_json}
