"""The registry validator's shared readers: the problem collector (`Ctx`), line numbers,
"did you mean" suggestions and typed field readers that record a problem instead of raising."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sopskit.registry import fields
from sopskit.registry.glob import Glob, GlobError, shown
from sopskit.registry.model import (
    ALL_CLUSTERS,
)
from sopskit.sopsfile.model import CRYPT_RULE_KINDS, CryptRule

T = TypeVar("T")


@dataclass
class Ctx:
    """Problems found so far, and what later checks need to know."""

    path: Path
    problems: list[tuple[int | None, str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    clusters: tuple[str, ...] = ()

    def add(self, where: str, message: str, line: int | None = None) -> None:
        self.problems.append((line, where, message))

    def rendered(self) -> tuple[str, ...]:
        return tuple(f"{self.path}:{line}: {where}: {msg}" if line else
                     f"{self.path}: {where}: {msg}" for line, where, msg in self.problems)


def line_of(container: Any, key: object) -> int | None:
    """1-based line of `key` in a round-trip loaded mapping or sequence, if known."""
    lc: Any = getattr(container, "lc", None)
    try:
        if isinstance(key, int) and isinstance(container, list):
            return int(lc.item(key)[0]) + 1
        return int(lc.key(key)[0]) + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return None


def suggest(word: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word.replace("-", "_").lower(), choices, n=1, cutoff=0.6)
    return f", did you mean {close[0]}?" if close else f" (known: {', '.join(choices)})"


def check_keys(ctx: Ctx, where: str, mapping: Mapping[Any, Any], allowed: tuple[str, ...]) -> None:
    for key in mapping:
        if str(key) not in allowed:
            ctx.add(f"{where}.{key}" if where else str(key),
                    f"unknown key{suggest(str(key), allowed)}", line_of(mapping, key))


def as_str(ctx: Ctx, where: str, value: Any, line: int | None) -> str | None:
    if isinstance(value, str) and value.strip():
        return value
    ctx.add(where, "must be a non-empty string", line)
    return None


def as_str_list(ctx: Ctx, where: str, value: Any, line: int | None) -> tuple[str, ...] | None:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        ctx.add(where, "must be a non-empty list of strings", line)
        return None
    return tuple(value)


def checked(ctx: Ctx, where: str, line: int | None, fn: Callable[[], T]) -> T | None:
    try:
        return fn()
    except ValueError as exc:
        ctx.add(where, str(exc), line)
        return None


def cluster_refs(ctx: Ctx, where: str, names: tuple[str, ...], line: int | None) -> None:
    for name in names:
        if name != ALL_CLUSTERS and name not in ctx.clusters:
            ctx.add(where, f"unknown cluster {name!r}{suggest(name, ctx.clusters)}", line)


def crypt_fields(ctx: Ctx, where: str, raw: Mapping[Any, Any]) -> tuple[bool, CryptRule | None]:
    """(whether any crypt field is present, the one rule set) from a defaults/rule mapping."""
    present = [k for k in CRYPT_RULE_KINDS if k in raw]
    present.sort(key=list(raw).index)  # name them in file order
    set_ = [k for k in present if raw[k] is not None]
    if len(set_) > 1:
        ctx.add(where, f"more than one crypt rule ({', '.join(set_)}): sops applies exactly one",
                line_of(raw, set_[1]))
        return True, None
    if not set_:
        return bool(present), None
    kind = set_[0]
    value = as_str(ctx, f"{where}.{kind}", raw[kind], line_of(raw, kind))
    if value is not None and kind.endswith("_regex"):
        value = checked(ctx, f"{where}.{kind}", line_of(raw, kind),
                        lambda: fields.crypt_regex(str(raw[kind])))
    return True, CryptRule(kind, value) if value is not None else None


def as_bool(ctx: Ctx, where: str, raw: Mapping[Any, Any], key: str) -> bool | None:
    if key not in raw:
        return None
    value = raw[key]
    if isinstance(value, bool):
        return value
    ctx.add(f"{where}.{key}", "must be true or false", line_of(raw, key))
    return None


def _glob(pattern: str) -> Glob:
    try:
        return Glob.compile(pattern)
    except GlobError as exc:
        raise ValueError(f"invalid glob {shown(pattern)}: {exc}") from None


def _opt_str(raw: Mapping[Any, Any], key: str) -> str | None:
    value = raw.get(key)
    return str(value) if value is not None else None
