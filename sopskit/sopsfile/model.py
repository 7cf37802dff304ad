"""The parsed form of a sops file's `sops` metadata block (sops-format.md 1.6).

Frozen dataclasses shared by the native verifier, the engine, the audit and rekey.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sopskit.recipient import Recipient

CryptRuleKind = Literal[
    "unencrypted_suffix",
    "encrypted_suffix",
    "unencrypted_regex",
    "encrypted_regex",
    "unencrypted_comment_regex",
    "encrypted_comment_regex",
]
CRYPT_RULE_KINDS: tuple[CryptRuleKind, ...] = (
    "unencrypted_suffix",
    "encrypted_suffix",
    "unencrypted_regex",
    "encrypted_regex",
    "unencrypted_comment_regex",
    "encrypted_comment_regex",
)

Format = Literal["yaml", "json", "dotenv", "ini", "binary"]
FORMATS: tuple[Format, ...] = ("yaml", "json", "dotenv", "ini", "binary")


@dataclass(frozen=True)
class CryptRule:
    """Which values are encrypted (sops-format.md 1.4). At most one per file."""

    kind: CryptRuleKind
    value: str


# sops.DefaultUnencryptedSuffix, applied when the metadata names no rule.
DEFAULT_CRYPT_RULE = CryptRule("unencrypted_suffix", "_unencrypted")


@dataclass(frozen=True)
class AgeStanza:
    recipient: str
    enc: str  # ASCII-armored age file wrapping the data key (or a Shamir share)


@dataclass(frozen=True)
class PgpStanza:
    fp: str
    enc: str  # ASCII-armored PGP message wrapping the data key (or a Shamir share)
    created_at: str | None = None


@dataclass(frozen=True)
class OtherStanza:
    """A cloud KMS / Vault master key: recognised, not unwrapped natively."""

    kind: Literal["kms", "gcp_kms", "azure_kv", "hc_vault", "hckms"]
    id: str
    enc: str
    created_at: str | None = None


@dataclass(frozen=True)
class KeyGroup:
    age: tuple[AgeStanza, ...] = ()
    pgp: tuple[PgpStanza, ...] = ()
    other: tuple[OtherStanza, ...] = ()

    def recipients(self) -> frozenset[Recipient]:
        out = {Recipient.age(s.recipient) for s in self.age}
        out |= {Recipient.pgp(s.fp) for s in self.pgp}
        out |= {Recipient(s.kind, s.id) for s in self.other}
        return frozenset(out)


@dataclass(frozen=True)
class Metadata:
    """The `sops` block of a file, whatever store it came from."""

    key_groups: tuple[KeyGroup, ...]
    lastmodified: str
    mac: str  # "" when the file has no MAC
    version: str
    crypt_rule: CryptRule | None = None  # None: none stored, sops applies DEFAULT_CRYPT_RULE
    mac_only_encrypted: bool = False
    shamir_threshold: int | None = None

    @property
    def effective_crypt_rule(self) -> CryptRule:
        return self.crypt_rule or DEFAULT_CRYPT_RULE

    @property
    def recipients(self) -> frozenset[Recipient]:
        """Every recipient of every key group."""
        out: set[Recipient] = set()
        for group in self.key_groups:
            out |= group.recipients()
        return frozenset(out)

    @property
    def threshold(self) -> int:
        """Shares needed to rebuild the data key (1 for a single group)."""
        if len(self.key_groups) <= 1:
            return 1
        return self.shamir_threshold or len(self.key_groups)
