"""Value types for private keys held in memory.

This module is a leaf: `sopsfile.datakey` and `sops.environment` take an `Identities`
without knowing where it came from (the rest of `identity/` finds them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
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

    def age_recipients(self) -> frozenset[str]:
        return frozenset(i.recipient for i in self.age)

    def only_age(self, recipients: frozenset[str]) -> Identities:
        """The subset holding just these age recipients and no PGP: "key X alone"."""
        return Identities(tuple(i for i in self.age if i.recipient in recipients), None,
                          self.sources)

    @property
    def empty(self) -> bool:
        return not self.age and self.gnupghome is None
