"""The one age X25519 key generator (pyrage), for `keys generate`, `identity add --generate`
and the demo, and the keys-file text age-keygen writes for a key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pyrage


@dataclass(frozen=True)
class AgeKeyPair:
    secret: str  # AGE-SECRET-KEY-1...: never printed or logged unless asked
    recipient: str  # age1...

    def __repr__(self) -> str:  # a stray repr() or log line must not show the secret
        return f"AgeKeyPair(recipient={self.recipient!r})"

    def keys_file(self) -> str:
        """The key as age-keygen writes it: creation time, public key, then the secret."""
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"# created: {created}\n# public key: {self.recipient}\n{self.secret}\n"


def generate() -> AgeKeyPair:
    """A new random age X25519 key pair."""
    ident = pyrage.x25519.Identity.generate()
    return AgeKeyPair(str(ident), str(ident.to_public()))
