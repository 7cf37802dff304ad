"""Comparing two plaintexts of one store by content, not by bytes.

sops re-emits what it encrypts (YAML re-indented, JSON with tabs, dates as RFC 3339), so
"decrypting the new file gives the intended plaintext" is a comparison of parsed data:
YAML documents, JSON values with key order, dotenv lines, INI sections, binary bytes.
"""

from __future__ import annotations

import configparser
import datetime as dt
import json
from typing import Any

from sopskit import yamlio
from sopskit.errors import InputError
from sopskit.sopsfile.model import Format


def same_content(a: bytes, b: bytes, fmt: Format) -> bool:
    """True when `a` and `b` hold the same data for store `fmt`."""
    if fmt == "binary":
        return a == b
    try:
        return bool(_load(a, fmt) == _load(b, fmt))
    except (InputError, ValueError, configparser.Error):
        return False


def _load(data: bytes, fmt: Format) -> Any:
    text = data.decode("utf-8")
    if fmt == "json":
        return json.loads(text, object_pairs_hook=list)
    if fmt == "dotenv":  # stores/dotenv: empty lines dropped, everything else verbatim
        return [line for line in text.split("\n") if line]
    if fmt == "ini":
        parser = configparser.RawConfigParser(interpolation=None, strict=False)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read_string(text)
        return {s: list(parser.items(s)) for s in parser.sections()}
    docs = yamlio.load_all(text, path="<plaintext>", rt=False)
    return [_normal(d) for d in docs if d is not None]


def _normal(value: Any) -> Any:
    """Dates as sops holds them: a Go time.Time, midnight UTC for a bare date."""
    if isinstance(value, dict):
        return [(k, _normal(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    return value
