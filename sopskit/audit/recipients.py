"""Recipient gaps: a sops file's recipients compared with the registry rule for its path.

Missing (the cluster cannot decrypt) and unauthorised (a reader the registry does not list)
are high; a retired or expired key still a recipient is medium; a revoked key still a
recipient is critical (its holder can read the current data key: rotate it). A sops file
that matches no rule is a config finding, except the Flux decryption Secret, which must be
encrypted to the admin keys whatever rule covers its path. sops metadata lives outside the MAC
(sops-format.md 1.9), so this is a check of what the file claims, not of who encrypted it.
"""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Iterator
from datetime import date

from sopskit.audit.finding import Finding
from sopskit.audit.fingerprint import subject_fingerprint
from sopskit.audit.rules import rule
from sopskit.recipient import Recipient
from sopskit.registry.model import ALL_CLUSTERS, Key, Registry
from sopskit.registry.resolve import resolve_or_none
from sopskit.sopsfile.model import Metadata


def _finding(rule_id: str, path: str, line: int | None, subject: str, message: str) -> Finding:
    r = rule(rule_id)
    return Finding(path, line, r.id, r.category, r.severity, r.message(message),
                   subject_fingerprint(r.id, path, subject))


def _name(registry: Registry, recipient: Recipient) -> str:
    key = registry.key_by_recipient(recipient)
    return f"{key.name} ({recipient})" if key else str(recipient)


def check(registry: Registry, path: str, metadata: Metadata, *, line: int | None = None,
          today: date, flux_secret: bool = False) -> Iterator[Finding]:
    """Every recipient finding of one sops file (path repository-relative). A Flux
    decryption Secret is checked against the admin keys, whatever rule covers its path."""
    if flux_secret:
        yield from _flux_secret(registry, path, line, metadata, today)
        return
    resolution = resolve_or_none(registry, path, today=today)
    if resolution is None:
        folder = posixpath.dirname(path)
        glob = shlex.quote(f"{folder}/**" if folder else path)
        yield _finding("no-rule", path, line, "no-rule",
                       f"nobody is meant to read it; add a rule (sopskit rules add {glob}"
                       " --clusters NAME) or move the file under one")
        return
    actual = frozenset(_canonical(registry, r) for r in metadata.recipients)
    where = f"rules[{resolution.rule_index}] {resolution.rule.path}"
    for r in sorted(resolution.recipients - actual):
        yield _finding("recipient-missing", path, line, str(r),
                       f"{_name(registry, r)} is required by {where}")
    for r in sorted(actual - resolution.recipients):
        yield _extra(registry, path, line, r, where=where, today=today)


def _flux_secret(registry: Registry, path: str, line: int | None, metadata: Metadata,
                 today: date) -> Iterator[Finding]:
    """`sopskit flux secret` encrypts a cluster's private keys to the active keys serving
    every cluster (the admins): any other reader could decrypt the cluster's secrets."""
    for r in sorted(metadata.recipients):
        key = registry.key_by_recipient(r)
        if key is not None and ALL_CLUSTERS in key.clusters \
                and key.effective_status(today) == "active":
            continue
        yield _finding("recipient-unauthorised", path, line, str(r),
                       f"{_name(registry, r)} can read this Flux decryption Secret, which "
                       "must be encrypted to the admin keys (clusters: ['*']) only")


def _canonical(registry: Registry, r: Recipient) -> Recipient:
    """A PGP long key id (16 hex, which sops stores as typed in the config: sops-format.md
    1.6) stands for the registry key whose fingerprint ends with it."""
    key = registry.key_by_recipient(r)
    return key.recipient if key else r


def _extra(registry: Registry, path: str, line: int | None, r: Recipient, *, where: str,
           today: date) -> Finding:
    key: Key | None = registry.key_by_recipient(r)
    if key is None:
        return _finding("recipient-unauthorised", path, line, str(r),
                        f"{r} is not in the registry")
    status = key.effective_status(today)
    if status == "revoked":
        return _finding("recipient-revoked", path, line, str(r),
                        f"{key.name} is revoked: remove it and rotate the data key")
    if status in ("retired", "expired"):
        what = f"expired on {key.expires}" if status == "expired" else "retired"
        return _finding("recipient-retired", path, line, str(r), f"{key.name} is {what}")
    return _finding("recipient-unauthorised", path, line, str(r),
                    f"{key.name} is not a recipient of {where}")
