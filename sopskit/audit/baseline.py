"""Accepted findings: a JSON file of entries keyed by path, rule and fingerprint.

Not by line: moving lines keeps an entry valid, and a different secret on an accepted line
has another fingerprint, so it is still reported. Each entry may carry a `reason` and an
`expires` date (ISO); from the day after `expires` the entry no longer suppresses. Entries
hold no value, only the fingerprint (see fingerprint.py).

File format (version 1):
`{"version": 1, "entries": [{"path", "rule", "fingerprint", "reason", "expires"}]}`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sopskit.audit.finding import Finding
from sopskit.errors import InputError

DEFAULT_NAME = ".sopskit-baseline.json"
VERSION = 1


@dataclass(frozen=True)
class Entry:
    path: str
    rule: str
    fingerprint: str
    reason: str | None = None
    expires: date | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.path, self.rule, self.fingerprint)

    def active(self, today: date) -> bool:
        return self.expires is None or today <= self.expires

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "rule": self.rule, "fingerprint": self.fingerprint,
                "reason": self.reason,
                "expires": self.expires.isoformat() if self.expires else None}


@dataclass(frozen=True)
class Baseline:
    entries: tuple[Entry, ...] = ()

    def index(self) -> dict[tuple[str, str, str], Entry]:
        return {e.key: e for e in self.entries}

    def split(self, findings: Iterable[Finding], today: date) -> tuple[list[Finding],
                                                                       list[Finding]]:
        """(new findings, findings accepted by an active entry)."""
        index = self.index()
        new: list[Finding] = []
        accepted: list[Finding] = []
        for f in findings:
            entry = index.get(key_of(f))
            (accepted if entry is not None and entry.active(today) else new).append(f)
        return new, accepted


def key_of(f: Finding) -> tuple[str, str, str]:
    return (f.path, f.rule, f.fingerprint)


def load(path: Path) -> Baseline:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read baseline: {exc.strerror}", path=path) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"baseline is not valid JSON: {exc}", path=path) from None
    if not isinstance(raw, dict) or raw.get("version") != VERSION:
        raise InputError(f"not a sopskit baseline (version {VERSION} expected)", path=path)
    entries = raw.get("entries")
    if not isinstance(entries, list):
        raise InputError("baseline has no 'entries' list", path=path)
    return Baseline(tuple(_entry(e, i, path) for i, e in enumerate(entries)))


def _entry(raw: object, index: int, path: Path) -> Entry:
    where = f"entries[{index}]"
    if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str)
                                            for k in ("path", "rule", "fingerprint")):
        raise InputError(f"{where}: needs string path, rule and fingerprint", path=path)
    expires = raw.get("expires")
    try:
        when = date.fromisoformat(expires) if expires else None
    except (TypeError, ValueError):
        raise InputError(f"{where}.expires: not an ISO date (YYYY-MM-DD)", path=path) from None
    reason = raw.get("reason")
    return Entry(raw["path"], raw["rule"], raw["fingerprint"],
                 reason if isinstance(reason, str) else None, when)


def build(findings: Iterable[Finding], previous: Baseline | None = None, *,
          covered: Callable[[str], bool] | None = None) -> Baseline:
    """A baseline accepting `findings`; reasons and expiry dates of `previous` entries that
    still match are kept (update), entries that no longer match are dropped. With
    `covered` (which paths a narrowed scan speaks for: PATHs, --staged, --since), previous
    entries of other paths are kept as they are: that scan says nothing about them."""
    old = previous.index() if previous else {}
    entries: dict[tuple[str, str, str], Entry] = {}
    for f in sorted(findings, key=Finding.sort_key):
        k = key_of(f)
        entries[k] = old.get(k) or Entry(*k)
    if covered is not None:
        for k, entry in old.items():
            if not covered(entry.path) and k not in entries:
                entries[k] = entry
    return Baseline(tuple(sorted(entries.values(), key=lambda e: e.path)))  # stable


def dump(baseline: Baseline) -> str:
    body = {"version": VERSION, "entries": [e.as_dict() for e in baseline.entries]}
    return json.dumps(body, indent=2) + "\n"
