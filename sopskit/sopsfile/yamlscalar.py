"""Plain YAML scalars resolved exactly as go-yaml v3 does (`resolve.go`), which sops uses.

This is why sopskit resolves scalars itself instead of taking ruamel's YAML 1.2 types:
the MAC of plaintext values depends on the Go type sops saw, and yaml.v3 is neither pure
1.1 nor pure 1.2: `yes`/`on` stay strings (1.2) but `0777` is octal 511 (1.1), `1_000`
is 1000, and unquoted dates become time.Time (checked against the sops binary).
"""

from __future__ import annotations

import math
import re
from datetime import date

from sopskit.sopsfile.tree import GoTime, ScalarValue

_MAP: dict[str, ScalarValue] = {
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_YAML_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_DOT_FLOAT = re.compile(r"^\.[0-9]+([eE][-+]?[0-9]+)?$")
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:(?:([Tt])(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2}))"
    r"|(?: (\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d+))?))?$"
)
_DIGITS = {2: "01", 8: "01234567", 10: "0123456789", 16: "0123456789abcdefABCDEF"}
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def resolve_plain(text: str) -> ScalarValue:
    """The Go value yaml.v3 gives an untagged plain scalar (resolve.go: resolve)."""
    if text in _MAP:
        return _MAP[text]
    first = text[0]
    if first == ".":
        return _parse_float(text) if _DOT_FLOAT.match(text) else text
    if not (first.isdigit() and first.isascii()) and first not in "+-":
        return text
    stamp = parse_timestamp(text)
    if stamp is not None:
        return stamp
    plain = text.replace("_", "")
    number = _parse_int(plain)
    if number is not None:
        return number
    if _YAML_FLOAT.match(plain):
        value = _parse_float(plain)
        if value is not None:
            return value
    return _prefixed_int(plain, text)


def _prefixed_int(plain: str, text: str) -> ScalarValue:
    """0b / -0b / 0o / -0o forms that ParseInt(base 0) rejected (out of range)."""
    for prefix, base in (("0b", 2), ("-0b", 2), ("0o", 8), ("-0o", 8)):
        if plain.startswith(prefix):
            digits = plain[len(prefix):]
            if digits and all(c in _DIGITS[base] for c in digits) and _fits(digits):
                value = int(digits, base) * (-1 if prefix[0] == "-" else 1)
                if INT64_MIN <= value <= INT64_MAX:
                    return value
    return text


def _parse_int(text: str) -> int | None:
    """strconv.ParseInt(text, 0, 64)."""
    sign, body = 1, text
    if body[:1] in ("+", "-"):
        sign, body = (-1 if body[0] == "-" else 1), body[1:]
    base = 10
    if len(body) > 1 and body[0] == "0":
        marker = body[1].lower()
        base, body = {"x": (16, body[2:]), "o": (8, body[2:]), "b": (2, body[2:])}.get(
            marker, (8, body[1:]))
    if not body or any(c not in _DIGITS[base] for c in body) or not _fits(body):
        return None
    value = sign * int(body, base)
    return value if INT64_MIN <= value <= INT64_MAX else None


def _fits(digits: str) -> bool:
    """Whether `digits` may be an int64 in any base (64 binary digits at most, leading zeros
    aside). Longer ones are out of range for ParseInt anyway, and Python's int() refuses
    strings over 4,300 digits with a ValueError: never convert them."""
    return len(digits.lstrip("0")) <= 64


def _parse_float(text: str) -> float | None:
    """strconv.ParseFloat: out of range is an error (not a float)."""
    value = float(text)
    return None if math.isinf(value) else value


def parse_timestamp(text: str) -> GoTime | None:
    """yaml.v3 parseTimestamp: the four allowed layouts, rendered as Go MarshalText."""
    m = _TIMESTAMP.match(text)
    if not m:
        return None
    year, month, day = int(m[1]), int(m[2]), int(m[3])
    try:
        date(year, month, day)
    except ValueError:
        return None
    if m[4]:
        clock, frac, zone = (m[5], m[6], m[7]), m[8], m[9]
    elif m[10]:
        clock, frac, zone = (m[10], m[11], m[12]), m[13], "Z"
    else:
        clock, frac, zone = ("0", "0", "0"), None, "Z"
    hour, minute, second = (int(x) for x in clock)
    if hour > 23 or minute > 59 or second > 59:
        return None
    if zone != "Z" and (int(zone[1:3]) > 23 or int(zone[4:6]) > 59):
        return None
    if zone in ("+00:00", "-00:00"):
        zone = "Z"  # Go formats a zero offset as Z
    nanos = (frac or "")[:9].rstrip("0")
    body = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
    return GoTime(body + (f".{nanos}" if nanos else "") + zone)
