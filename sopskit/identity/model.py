"""Value types for private keys held in memory.

This module is a leaf: `sopsfile.datakey` and `sops.environment` take an `Identities`
without knowing where it came from (the rest of `identity/` finds them).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path


@dataclass(frozen=True)
class AgeIdentity:
    """An age X25519 identity (`AGE-SECRET-KEY-1...`) or an ssh private key usable by age."""

    secret: str = field(repr=False)  # never printed
    recipient: str  # the public part: age1... or an ssh public key line
    source: str  # where it came from, e.g. "SOPS_AGE_KEY_FILE=/path", "keyring:ops-admin"
    name: str | None = None  # registry key name, when known
    kind: str = "x25519"  # "x25519" or "ssh"


@dataclass(frozen=True)
class Identities:
    """The private keys one operation may use, and nothing else."""

    age: tuple[AgeIdentity, ...] = ()
    gnupghome: Path | None = None  # None: PGP is not used at all
    sources: tuple[str, ...] = ()  # human-readable list of where the keys came from
    # Sources that were skipped or failed, and why (e.g. "keyring: not consulted: CI=true").
    # Never secret: shown by `identity list` and `doctor`.
    notes: tuple[str, ...] = ()
    # Post-quantum age identities (`AGE-SECRET-KEY-PQ-1...`, sops >= 3.11): handed to sops
    # only. pyrage has no ML-KEM, so the native engine cannot unwrap age1pq1 stanzas.
    pq: tuple[str, ...] = field(default=(), repr=False)

    def age_recipients(self) -> frozenset[str]:
        return frozenset(i.recipient for i in self.age)

    def only_age(self, recipients: frozenset[str]) -> Identities:
        """The subset holding just these age recipients and no PGP: "key X alone"."""
        return Identities(tuple(i for i in self.age if i.recipient in recipients), None,
                          self.sources, self.notes)  # no PQ key: it has no known recipient

    def named(self, names: dict[str, str]) -> Identities:
        """The same identities with `name` filled from `names` (public part -> registry
        key name) where it is still unknown."""
        age = tuple(i if i.name else replace(i, name=names.get(i.recipient)) for i in self.age)
        return replace(self, age=age)

    def find(self, selector: str) -> AgeIdentity | None:
        """The first age identity with this name or recipient."""
        key = selector.strip()
        return next((i for i in self.age if key in (i.name, i.recipient)), None)

    @property
    def empty(self) -> bool:
        return not self.age and self.gnupghome is None and not self.pq

    def held(self) -> str:
        """What each identity source held, public parts only, and the sources skipped: for
        a "no key opens this file" message an operator can act on."""
        by_source: dict[str, list[str]] = {}
        for ident in self.age:
            by_source.setdefault(ident.source, []).append(ident.recipient)
        parts = [f"{src}: {', '.join(recips)}" for src, recips in by_source.items()]
        if self.pq:
            parts.append(f"{len(self.pq)} post-quantum age identit"
                         f"{'y' if len(self.pq) == 1 else 'ies'} (for sops only)")
        if self.gnupghome is not None:
            parts.append(f"GNUPGHOME {self.gnupghome}: PGP secret keys as gpg has them")
        parts += self.notes
        return "; ".join(parts) or "no identity source held a key"

