"""Rotation gaps: stale data keys (from git history) and expiring or expired keys.

sops records no data-key age (`lastmodified` changes on every edit), so the age is derived
from history: the newest commit in which the file's data key changed. With an identity that
opens the file, the data keys of both versions are compared (exact). Without one, a commit in
which every encrypted value changed counts as a rotation (inferred): `sops rotate` re-encrypts
every value under a new key, while `edit`/`set` keep the data key and re-use the IV of every
unchanged value, so their ciphertext stays byte-identical (sops-format.md 1.2, 3.6, 3.7);
`updatekeys` touches only the metadata. Adding the file (or encrypting a plaintext one) is
where its first data key was made.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sopskit.audit import history
from sopskit.audit.finding import Finding
from sopskit.audit.fingerprint import subject_fingerprint
from sopskit.audit.rules import rule
from sopskit.errors import NoIdentityError, SopskitError
from sopskit.gitio import read_blobs
from sopskit.identity.model import Identities
from sopskit.sopsfile.datakey import recover_data_key
from sopskit.sopsfile.document import SopsDocument, detect_format, parse


@dataclass(frozen=True)
class KeyAge:
    path: str
    commit: str
    time: int
    method: str  # "exact" or "inferred"
    at_least: bool  # no rotation within the history we have (shallow clone, max count)

    def days(self, now: datetime) -> int:
        return (now - datetime.fromtimestamp(self.time, UTC)).days


class _Blobs:
    """Blob contents, parsed documents and data keys, each fetched or computed once."""

    def __init__(self, repo: Path, identities: Identities | None) -> None:
        self.repo, self.identities = repo, identities
        self.data: dict[str, bytes] = {}
        self.docs: dict[str, SopsDocument | None] = {}
        self.keys: dict[str, bytes | None] = {}

    def fetch(self, ids: set[str]) -> None:
        missing = sorted(i for i in ids if i not in self.data and i != history.ZERO)
        got = read_blobs(self.repo, [(i, i) for i in missing])
        self.data.update(got)

    def doc(self, blob: str, path: str) -> SopsDocument | None:
        if blob not in self.docs:
            try:
                self.docs[blob] = parse(self.data[blob], path=path, fmt=detect_format(path))
            except SopskitError:
                self.docs[blob] = None
        return self.docs[blob]

    def key(self, blob: str, path: str) -> bytes | None:
        if blob not in self.keys:
            doc = self.doc(blob, path)
            try:
                self.keys[blob] = (recover_data_key(doc.metadata, self.identities, path=path)
                                   if doc is not None and self.identities else None)
            except (NoIdentityError, SopskitError):
                self.keys[blob] = None
        return self.keys[blob]


def _encrypted_values(doc: SopsDocument) -> dict[tuple[int, str, int], str]:
    out: dict[tuple[int, str, int], str] = {}
    seen: dict[tuple[int, str], int] = {}
    for leaf in doc.leaves():
        if leaf.encrypted and not leaf.is_comment and isinstance(leaf.value, str) \
                and leaf.value.startswith("ENC["):
            n = seen.get((leaf.document, leaf.key_path), 0)
            seen[(leaf.document, leaf.key_path)] = n + 1
            out[(leaf.document, leaf.key_path, n)] = leaf.value
    return out


def _rotated(blobs: _Blobs, change: history.Change, path: str) -> str | None:
    """"exact"/"inferred" when `change` made a new data key, else None."""
    if change.old == history.ZERO:
        return "inferred" if blobs.key(change.new, path) is None else "exact"
    old_doc, new_doc = blobs.doc(change.old, path), blobs.doc(change.new, path)
    if new_doc is None:
        return None
    if old_doc is None:
        return "inferred"  # the file became a sops file here
    old_key, new_key = blobs.key(change.old, path), blobs.key(change.new, path)
    if old_key is not None and new_key is not None:
        return "exact" if old_key != new_key else None
    old_v, new_v = _encrypted_values(old_doc), _encrypted_values(new_doc)
    common = old_v.keys() & new_v.keys()
    if not new_v:
        return None
    return "inferred" if all(old_v[k] != new_v[k] for k in common) else None


def key_ages(repo: Path, paths: list[str], identities: Identities | None) -> dict[str, KeyAge]:
    """path -> when its data key last changed, for committed sops files."""
    changes = {p: c for p, c in history.changes(repo, paths).items() if c}
    blobs = _Blobs(repo, identities)
    found: dict[str, KeyAge] = {}
    depth = 0
    while pending := [p for p in changes if p not in found and depth < len(changes[p])]:
        blobs.fetch({b for p in pending for b in (changes[p][depth].old, changes[p][depth].new)})
        for p in pending:
            c = changes[p][depth]
            method = _rotated(blobs, c, p)
            if method is not None:
                found[p] = KeyAge(p, c.commit, c.time, method, False)
            elif depth + 1 == len(changes[p]):
                # no rotation among the changes read, and the last is no add: the window
                # cut the history short (a busy file), read on rather than under-age it
                changes[p] = changes[p] + history.older(repo, p, skip=depth + 1)
        depth += 1
    for p, seen in changes.items():
        if p not in found:
            found[p] = KeyAge(p, seen[-1].commit, seen[-1].time, "inferred", True)
    return found


def stale(ages: dict[str, KeyAge], *, max_days: int, now: datetime) -> Iterator[Finding]:
    r = rule("data-key-stale")
    for path, age in sorted(ages.items()):
        days = age.days(now)
        if days <= max_days:
            continue
        bound = "at least " if age.at_least else ""
        yield Finding(path, None, r.id, r.category, r.severity,
                      f"{r.title}: data key last changed {bound}{days} days ago in commit "
                      f"{age.commit[:12]} ({age.method}); rotate it: sopskit rekey --apply "
                      f"--rotate-data-key always {shlex.quote(path)}",
                      subject_fingerprint(r.id, path, age.commit))


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
    return Finding(path, line, r.id, r.category, r.severity, f"{r.title}: {text}",
                   subject_fingerprint(r.id, name, expires.isoformat()))
