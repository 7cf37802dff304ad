"""Rotation gaps: stale data keys and expiring or expired keys.

The data-key ages come from git history (`sopskit.history.datakey`: renames followed, exact
with an identity that opens both versions, else inferred from shared ciphertext); this module
turns them, and the registry's expiry dates, into findings.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from datetime import date, datetime

from sopskit.audit.finding import Finding
from sopskit.audit.fingerprint import subject_fingerprint
from sopskit.audit.rules import rule
from sopskit.history.datakey import KeyAge


def stale(ages: dict[str, KeyAge], *, max_days: int, now: datetime) -> Iterator[Finding]:
    r = rule("data-key-stale")
    for path, age in sorted(ages.items()):
        days = age.days(now)
        if days <= max_days:
            continue
        bound = "at least " if age.at_least else ""
        yield Finding(path, None, r.id, r.category, r.severity,
                      f"{r.title}: data key last changed {bound}{days} days ago "
                      f"{age.describe()}; rotate it: sopskit rekey --apply "
                      f"--rotate-data-key always {shlex.quote(path)}",
                      subject_fingerprint(r.id, path, age.commit))


def lower_bounds(ages: dict[str, KeyAge], *, max_days: int, now: datetime) -> str | None:
    """A note when history ends before some data keys were made (a shallow clone, e.g.
    CI's `fetch-depth: 1`, or old versions missing from the object store) and those files
    look young enough: their real age is unknown, and a silent pass would read as "not
    stale"."""
    cut = [a for a in ages.values() if a.at_least and a.days(now) <= max_days]
    if not cut:
        return None
    least = min(a.days(now) for a in cut)
    return (f"data-key age of {len(cut)} sops file(s) unknown: this clone's history is "
            f"incomplete before their data key was made (shallow, or objects missing; ages "
            f"are at least {least} days); run `git fetch --unshallow` (or re-clone) to check "
            "them")


def expiry(name: str, expires: date, *, path: str, line: int | None, today: date,
           warning_days: int, source: str = "registry") -> Finding | None:
    """A finding for a key that has expired or expires within `warning_days`."""
    left = (expires - today).days
    if left < 0:
        r = rule("key-expired")
        text = f"key {name} expired on {expires} ({source})"
    elif left <= warning_days:
        r = rule("key-expiring")
        text = f"key {name} expires on {expires}, in {left} days ({source})"
    else:
        return None
    return Finding(path, line, r.id, r.category, r.severity, r.message(text),
                   subject_fingerprint(r.id, name, expires.isoformat()))
