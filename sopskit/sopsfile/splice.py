"""Keep a file's own layout when an edit changed one stored value (plus lastmodified / MAC).

`rawfile` re-emits a file the way sops 3.11 writes it. Files written by older sops (yaml.v2
list indentation `-   key:`, single-quoted timestamps) or formatted by hand would be
reformatted on their first edit, as `sops set` does too. When exactly one stored value was
replaced by another, the three new strings (that value's `ENC[...]`, `lastmodified`, the
MAC's `ENC[...]`) are spliced into the original text instead, and the result is used only
when it parses to exactly the same leaves and metadata as the re-emitted file.
"""

from __future__ import annotations

import re

from sopskit.errors import SopskitError
from sopskit.sopsfile.document import SopsDocument, parse
from sopskit.sopsfile.model import Format

_LASTMODIFIED = {
    "yaml": r"^\s*lastmodified:\s*[\"']?([^\"'\n]+)",
    "json": r"\"lastmodified\":\s*\"([^\"]+)\"",
    "binary": r"\"lastmodified\":\s*\"([^\"]+)\"",
    "dotenv": r"^sops_lastmodified=(.+)$",
    "ini": r"^\s*lastmodified\s*=\s*(.+?)\s*$",
}


def _leaves(doc: SopsDocument) -> list[tuple[tuple[str, ...], object, bool]]:
    return [(leaf.path, leaf.value, leaf.is_comment) for leaf in doc.leaves()]


def _replace_once(text: str, old: str, new: str) -> str | None:
    return text.replace(old, new) if old and text.count(old) == 1 else None


def splice(original: bytes, before: SopsDocument, after: SopsDocument,
           fmt: Format) -> bytes | None:
    """`original` with `after`'s one changed value, lastmodified and MAC; None when the
    change is not a single value replaced in place (then re-emit the whole file)."""
    old, new = _leaves(before), _leaves(after)
    changed = [(a, b) for a, b in zip(old, new, strict=False) if a != b]
    if len(old) != len(new) or len(changed) != 1 or changed[0][0][0] != changed[0][1][0]:
        return None
    old_value, new_value = changed[0][0][1], changed[0][1][1]
    if not (isinstance(old_value, str) and isinstance(new_value, str)
            and old_value.startswith("ENC[") and new_value.startswith("ENC[")):
        return None
    text: str | None = original.decode("utf-8")
    for was, now in ((old_value, new_value), (before.metadata.mac, after.metadata.mac)):
        text = _replace_once(text, was, now) if text is not None else None
    if text is None:
        return None
    stamps = list(re.finditer(_LASTMODIFIED[fmt], text, re.MULTILINE))
    if len(stamps) != 1:
        return None
    text = text[:stamps[0].start(1)] + after.metadata.lastmodified + text[stamps[0].end(1):]
    out = text.encode("utf-8")
    try:
        check = parse(out, path=after.path, fmt=fmt)
    except SopskitError:
        return None
    same_meta = (check.metadata.lastmodified, check.metadata.mac) == (
        after.metadata.lastmodified, after.metadata.mac)
    return out if same_meta and _leaves(check) == new else None
