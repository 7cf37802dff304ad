"""The value type every part of sopskit uses to name a key that can read a file.

The sops metadata stores recipients "as typed in config" (sops-format.md 1.6): PGP
fingerprints with any case, age recipients possibly with whitespace. Comparing them
between a file, the registry and .sops.yaml needs one normal form, defined here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

RecipientType = Literal["age", "pgp", "kms", "gcp_kms", "azure_kv", "hc_vault", "hckms"]

_PGP_FP = re.compile(r"^(?:[0-9A-F]{16}|[0-9A-F]{40})$")


def normalise_fingerprint(fp: str) -> str:
    """Upper-case, without spaces or sops' trailing `!` (issue #1365)."""
    return "".join(fp.split()).rstrip("!").upper()


def is_pgp_fingerprint(fp: str) -> bool:
    """True for a 40-hex v4 fingerprint (or a 16-hex long key id) after normalising."""
    return bool(_PGP_FP.match(normalise_fingerprint(fp)))


@dataclass(frozen=True, order=True)
class Recipient:
    """One key that a file is (or must be) encrypted to, in normal form."""

    type: RecipientType
    id: str

    @classmethod
    def age(cls, recipient: str) -> Recipient:
        return cls("age", recipient.strip())

    @classmethod
    def pgp(cls, fingerprint: str) -> Recipient:
        return cls("pgp", normalise_fingerprint(fingerprint))

    def __str__(self) -> str:
        return f"{self.type}:{self.id}"
