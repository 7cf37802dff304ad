"""The ordered tree every store parses into (sops.go: Tree, TreeBranch, TreeItem).

A branch is an ordered list of `Item` (key -> node) and `Comment`; a sequence is an ordered
list of nodes and `Comment`; a leaf is a `Scalar` (None = null, skipped by the walk).
Order and duplicates are kept because the MAC depends on walk order (sops-format.md 1.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Union


@dataclass(frozen=True, slots=True)
class GoTime:
    """A YAML timestamp as sops holds it: a Go time.Time, kept as its MarshalText form.

    `rfc3339` is RFC 3339 with nanoseconds (trailing zeros dropped, `Z` for offset 0):
    exactly the bytes sops hashes into the MAC and writes as the `time` plaintext.
    """

    rfc3339: str

    def to_datetime(self) -> datetime:
        text = self.rfc3339.replace("Z", "+00:00")
        head, _, rest = text.partition(".")
        if rest:  # Python keeps microseconds only
            digits = "".join(c for c in rest if c.isdigit())
            zone = rest[len(digits):]
            text = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
        return datetime.fromisoformat(text)

    def __str__(self) -> str:
        return self.rfc3339


ScalarValue = str | int | float | bool | bytes | GoTime | None


@dataclass(slots=True)
class Scalar:
    """A leaf value with the 1-based line it came from (None when the format has none)."""

    value: ScalarValue
    line: int | None = None


@dataclass(slots=True)
class Comment:
    """A comment line (text without the leading `#`/`;`), sops.Comment."""

    text: str
    line: int | None = None
    inline: bool = False


@dataclass(slots=True)
class Item:
    """One key of a mapping (sops.TreeItem with a string key)."""

    key: str
    value: Node
    line: int | None = None


class Branch(list["Item | Comment"]):
    """An ordered mapping (sops.TreeBranch); comments are entries of their own."""


class Seq(list["Node | Comment"]):
    """An ordered sequence; comments are entries of their own."""


Node = Union[Branch, Seq, Scalar]  # noqa: UP007 (Branch is a runtime list subclass)
