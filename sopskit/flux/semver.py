"""Semantic versions and version constraints as Flux's source-controller reads them.

A GitRepository's `ref.semver` is a Masterminds/semver v3 constraint (`NewConstraint`) and
every tag is parsed with fluxcd/pkg/version `ParseVersion` (strict `MAJOR.MINOR.PATCH`, an
optional leading `v`); the highest matching version wins. Neither `semver` nor `packaging`
on PyPI reads Masterminds ranges (`~1.2`, `1.x`, `>=1 <2`, `1 - 2`, the per-group
pre-release rule), so this module ports Masterminds' constraints.go (v3, as of its
current main: pre-releases decided per AND group); each function cites the Go function it
mirrors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering
from typing import Any

import re2

from sopskit.errors import InputError

# semver.org's strict grammar (StrictNewVersion); fluxcd/pkg/version allows a leading "v".
_STRICT = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$")
# Masterminds' loose NewVersion (used for the versions inside a constraint)
_LOOSE = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?"
                    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
                    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$")


@total_ordering
@dataclass(frozen=True, eq=False)
class Version:
    major: int
    minor: int
    patch: int
    pre: str = ""
    metadata: str = ""
    original: str = ""

    def _key(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def compare(self, other: Version) -> int:
        """Masterminds `Version.Compare`: precedence by semver.org, metadata ignored."""
        if self._key() != other._key():
            return -1 if self._key() < other._key() else 1
        return _compare_prerelease(self.pre, other.pre)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self.compare(other) == 0

    def __lt__(self, other: Version) -> bool:
        return self.compare(other) < 0

    def __hash__(self) -> int:
        return hash((self._key(), self.pre))


def parse_tag(tag: str) -> Version | None:
    """A tag as Flux reads it (fluxcd/pkg/version.ParseVersion): strict semver with an
    optional `v`; None for any other tag (`dev-snapshot`, `v1.2`, `release-3`)."""
    m = _STRICT.match(tag)
    if m is None:
        return None
    return Version(int(m[1]), int(m[2]), int(m[3]), m[4] or "", m[5] or "", tag)


def _loose(text: str) -> Version:
    m = _LOOSE.match(text)
    if m is None:
        raise ValueError(text)
    return Version(int(m[1]), int(m[2] or 0), int(m[3] or 0), m[4] or "", m[5] or "", text)


def _compare_prerelease(a: str, b: str) -> int:
    """semver.org 11.3/11.4 (Masterminds `comparePrerelease`): a release ranks above its
    pre-releases; identifiers compare numerically when numeric, numbers below words."""
    if a == b:
        return 0
    if not a:
        return 1
    if not b:
        return -1
    pa, pb = a.split("."), b.split(".")
    for x, y in zip(pa, pb, strict=False):
        if x == y:
            continue
        xn, yn = x.isdigit(), y.isdigit()
        if xn and yn:
            return -1 if int(x) < int(y) else 1
        if xn != yn:
            return -1 if xn else 1
        return -1 if x < y else 1
    return (len(pa) > len(pb)) - (len(pa) < len(pb))


def _go(pattern: str) -> Any:
    options = re2.Options()
    options.log_errors = False
    return re2.compile(pattern, options)


_OPS = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^"
_CV = (r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?"
       r"(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
       r"(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?")
# Compiled with RE2, as Masterminds compiles them with Go's regexp: leftmost-first (the
# alternation order above is Masterminds'), and linear in the text (Python's `re` took 15 s
# on a 20,000-character `ref.semver` read from the repository, and grows beyond).
_ONE = _go(rf"^\s*({_OPS})\s*({_CV})\s*$")
_RANGE = _go(rf"\s*({_CV})\s+-\s+({_CV})\s*")
_FIND = _go(rf"({_OPS})\s*({_CV})")
_VALID = _go(rf"^(\s*({_OPS})\s*({_CV})\s*)((?:\s+|,\s*)({_OPS})\s*({_CV})\s*)*$")


def _is_x(part: str) -> bool:
    return part in ("x", "X", "*")


@dataclass(frozen=True)
class _Comparator:
    op: str
    con: Version
    dirty: bool = False
    minor_dirty: bool = False
    patch_dirty: bool = False

    def check(self, v: Version, include_pre: bool) -> bool:
        # every operator exits early on a pre-release version unless its AND group names
        # a pre-release (`containsPre`, decided per group by NewConstraint)
        if v.pre and not include_pre:
            return False
        return bool(_CHECKS[self.op](self, v))


def _parse_comparator(text: str) -> _Comparator:
    """Masterminds `parseConstraint`."""
    m = _ONE.match(text)
    if m is None:
        raise ValueError(text)
    major, minor, patch, pre = m[3], m[4] or "", m[5] or "", m[6] or ""
    ver, dirty, minor_dirty, patch_dirty = m[2], False, False, False
    if _is_x(major) or major == "":
        ver, dirty = f"0.0.0{pre}", True
    elif _is_x(minor.removeprefix(".")) or minor == "":
        ver, dirty, minor_dirty = f"{major}.0.0{pre}", True, True
    elif _is_x(patch.removeprefix(".")) or patch == "":
        ver, dirty, patch_dirty = f"{major}{minor}.0{pre}", True, True
    return _Comparator(m[1], _loose(ver), dirty, minor_dirty, patch_dirty)


def _not_equal(c: _Comparator, v: Version) -> bool:
    if c.dirty:
        if c.con.major != v.major:
            return True
        if c.con.minor != v.minor and not c.minor_dirty:
            return True
        if c.minor_dirty:
            return False
        if c.con.patch != v.patch and not c.patch_dirty:
            return True
        if c.patch_dirty:
            return (bool(v.pre or c.con.pre)
                    and _compare_prerelease(v.pre, c.con.pre) != 0)
    return v != c.con


def _greater(c: _Comparator, v: Version) -> bool:
    if not c.dirty:
        return v.compare(c.con) == 1
    if v.major != c.con.major:
        return v.major > c.con.major
    if c.minor_dirty:
        return False  # >11 is not met by 11.1.0
    if c.patch_dirty:
        return v.minor > c.con.minor
    return v.compare(c.con) == 1


def _less_equal(c: _Comparator, v: Version) -> bool:
    if not c.dirty:
        return v.compare(c.con) <= 0
    if v.major > c.con.major:
        return False
    return not (v.major == c.con.major and v.minor > c.con.minor and not c.minor_dirty)


def _tilde(c: _Comparator, v: Version) -> bool:
    if v < c.con:
        return False
    if (c.con.major, c.con.minor, c.con.patch) == (0, 0, 0) and not (c.minor_dirty
                                                                     or c.patch_dirty):
        return True  # ~0.0.0 / * accepts everything
    if v.major != c.con.major:
        return False
    return v.minor == c.con.minor or c.minor_dirty


def _tilde_or_equal(c: _Comparator, v: Version) -> bool:
    return _tilde(c, v) if c.dirty else v == c.con


def _caret(c: _Comparator, v: Version) -> bool:
    if v < c.con:
        return False
    if c.con.major > 0 or c.minor_dirty:
        return v.major == c.con.major
    if v.major > 0:
        return False
    if c.con.minor > 0 or c.patch_dirty:
        return v.minor == c.con.minor
    if v.minor > 0:
        return False
    return v.patch == c.con.patch


_CHECKS = {"": _tilde_or_equal, "=": _tilde_or_equal, "!=": _not_equal, ">": _greater,
           "<": lambda c, v: v.compare(c.con) < 0,
           ">=": lambda c, v: v.compare(c.con) >= 0, "=>": lambda c, v: v.compare(c.con) >= 0,
           "<=": _less_equal, "=<": _less_equal, "~": _tilde, "~>": _tilde, "^": _caret}


@dataclass(frozen=True)
class Constraint:
    """A parsed Masterminds constraint: OR groups (`||`) of AND-ed comparators."""

    text: str
    groups: tuple[tuple[_Comparator, ...], ...]

    def check(self, v: Version) -> bool:
        """Masterminds `Constraints.Check`: a pre-release version can only match a group
        in which some comparator names a pre-release (`>=1.5.0-0 <2.0.0` takes
        1.5.0-rc.1; `>=1.0.0 <2.0.0` never takes 2.0.0-rc.1)."""
        return any(all(c.check(v, any(x.con.pre for x in group)) for c in group)
                   for group in self.groups)


def _rewrite_range(text: str) -> str:
    """`1.2 - 1.4.5` -> `>= 1.2, <= 1.4.5` (Masterminds `rewriteRange`)."""
    out = text
    for m in _RANGE.finditer(text):
        out = out.replace(m[0], f">= {m[1]}, <= {m[11]} ", 1)
    return out


def parse_constraint(text: str, *, where: str = "semver") -> Constraint:
    """Masterminds `NewConstraint`; an improper range is an InputError naming `where`."""
    shown = text if len(text) <= 80 else f"{text[:77]}..."
    groups = []
    for part in _rewrite_range(text).split("||"):
        if not _VALID.match(part):
            raise InputError(f"improper semver range {shown!r}", path=where)
        found = [m[0] for m in _FIND.finditer(part)] or [part]
        try:
            groups.append(tuple(_parse_comparator(s) for s in found))
        except ValueError:
            raise InputError(f"improper semver range {shown!r}", path=where) from None
    return Constraint(text, tuple(groups))


def latest_matching(constraint: Constraint, tags: list[tuple[str, int]]) -> str | None:
    """The tag Flux checks out for `constraint` among (tag, timestamp) pairs: the highest
    matching version; equal versions (differing only in build metadata) by the tag's
    timestamp, latest last (source-controller `cloneSemVer`)."""
    matched = []
    for tag, stamp in tags:
        v = parse_tag(tag)
        if v is not None and constraint.check(v):
            matched.append((v, stamp, tag))
    if not matched:
        return None
    matched.sort(key=lambda t: (t[0].major, t[0].minor, t[0].patch, _PreKey(t[0].pre), t[1]))
    return matched[-1][2]


@total_ordering
@dataclass(frozen=True)
class _PreKey:
    pre: str

    def __lt__(self, other: _PreKey) -> bool:
        return _compare_prerelease(self.pre, other.pre) < 0
