"""Go's renderings of scalars, which the MAC and sops' output depend on.

`sops.ToBytes` renders floats with `strconv.FormatFloat(f, 'f', -1, 64)`, booleans as
`True`/`False`; yaml.v3 emits floats with `'g'`; encoding/json with `'f'` or `'e'`
(exponent < -6 or >= 21). Python's `repr(float)` gives the same shortest round-trip
digits as Go's `-1` precision, so only the layout differs.
"""

from __future__ import annotations

import math

from sopskit.sopsfile.tree import GoTime, ScalarValue


def _digits(x: float) -> tuple[str, int]:
    """Shortest round-trip digits and decimal exponent: x = 0.DIGITS * 10**exp."""
    mantissa, _, exp_text = repr(abs(x)).partition("e")
    exp = int(exp_text) if exp_text else 0
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    if not digits:
        return "0", 1
    point = len(whole.lstrip("0")) if whole.strip("0") else -(len(frac) - len(frac.lstrip("0")))
    digits = digits.rstrip("0") or "0"
    return digits, point + exp


def _special(x: float) -> str | None:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    return None


def format_f(x: float) -> str:
    """strconv.FormatFloat(x, 'f', -1, 64): no exponent, no trailing `.0`."""
    special = _special(x)
    if special:
        return special
    sign = "-" if math.copysign(1.0, x) < 0 else ""
    if x == 0:
        return sign + "0"
    digits, point = _digits(x)
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def format_e(x: float) -> str:
    """strconv.FormatFloat(x, 'e', -1, 64), e.g. 1e+22, 1.5e-07."""
    special = _special(x)
    if special:
        return special
    sign = "-" if math.copysign(1.0, x) < 0 else ""
    if x == 0:
        return sign + "0e+00"
    digits, point = _digits(x)
    exp = point - 1
    mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{mant}e{'-' if exp < 0 else '+'}{abs(exp):02d}"


def format_g(x: float) -> str:
    """strconv.FormatFloat(x, 'g', -1, 64) as yaml.v3 emits floats."""
    special = _special(x)
    if special:
        return special
    if x == 0:
        return "-0" if math.copysign(1.0, x) < 0 else "0"
    _, point = _digits(x)
    exp = point - 1
    # strconv: "if precision was the shortest possible, use precision 6 for this decision"
    return format_e(x) if exp < -4 or exp >= 6 else format_f(x)


def format_json_float(x: float) -> str:
    """encoding/json's float64 output (ES6 style)."""
    if x != 0 and (abs(x) < 1e-6 or abs(x) >= 1e21):
        text = format_e(x)
        mant, _, exp = text.partition("e")
        return f"{mant}e{exp[0]}{int(exp[1:])}"
    return format_f(x)


def to_bytes(value: ScalarValue) -> bytes:
    """sops.ToBytes: the bytes a leaf contributes to the MAC and its plaintext encoding."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, bool):
        return b"True" if value else b"False"
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, float):
        return format_f(value).encode()
    if isinstance(value, GoTime):
        return value.rfc3339.encode()
    if isinstance(value, bytes):
        return value
    raise TypeError(f"cannot render {type(value).__name__}")


def to_text(value: ScalarValue) -> str:
    """stores.ValToString: how dotenv and INI write a non-string value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = format_g(value).upper().replace("INF", "Inf").replace("NAN", "NaN")
        # "If the result can be confused with an integer, make sure we have at least one
        # decimal digit" (stores.ValToString): FormatFloat(v, 'f', 1, 64).
        if "." not in text and "E" not in text and not _special(value):
            text = f"{value:.1f}"
        return text
    if isinstance(value, GoTime):
        return _rfc3339_seconds(value.rfc3339)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def _rfc3339_seconds(text: str) -> str:
    """time.RFC3339 (no fractional seconds) from an RFC 3339 nano rendering."""
    head, dot, rest = text.partition(".")
    if not dot:
        return text
    zone = rest.lstrip("0123456789")
    return head + zone
