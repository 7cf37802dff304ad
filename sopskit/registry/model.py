"""The key registry as loaded and validated: frozen values, no I/O.

`Registry` is built only by `schema.load_registry` (or `schema.build` from parsed data),
so every instance has passed validation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from sopskit.recipient import Recipient
from sopskit.registry.glob import Glob
from sopskit.sopsfile.model import CryptRule, Format

KeyType = Literal["age", "pgp", "kms", "gcp_kms", "azure_kv", "hc_vault", "hckms"]
# Keys sopskit holds or makes private material for. The others (AWS/GCP/HuaweiCloud KMS,
# Azure Key Vault, Vault transit) live in a cloud service: the registry records them so
# that plans and audits know them, sops alone uses them, and sopskit never checks them.
MANAGED_KEY_TYPES: tuple[KeyType, ...] = ("age", "pgp")
SERVICE_KEY_TYPES: tuple[KeyType, ...] = ("kms", "gcp_kms", "azure_kv", "hc_vault", "hckms")
Status = Literal["active", "retired", "revoked"]
STATUSES: tuple[Status, ...] = ("active", "retired", "revoked")
ALL_CLUSTERS = "*"
# The formats whose values sops can select by key (the others get every value encrypted
# unless a rule says otherwise; binary files always do: sops ignores crypt rules for them).
STRUCTURED: tuple[Format, ...] = ("yaml", "json")


# sops reads `.sops.yaml` (and warns about `.sops.yml`): config, never a secret file.
SOPS_CONFIG_NAMES = frozenset({".sops.yaml", ".sops.yml"})

@dataclass(frozen=True)
class Cluster:
    name: str
    description: str = ""


@dataclass(frozen=True)
class Key:
    """One public key (age, PGP, or a cloud/Vault key by its sops id) and its lifecycle."""

    name: str
    type: KeyType
    recipient: Recipient  # age: the age1... string; pgp: the normalised fingerprint
    clusters: tuple[str, ...]  # cluster names, or ("*",) for every cluster
    status: Status = "active"
    owner: str | None = None
    description: str | None = None
    created: date | None = None
    expires: date | None = None
    public_key: Path | None = None  # pgp: the armored public key file (absolute)
    line: int | None = None  # where the key is defined in the registry file

    def is_recipient(self, recipient: Recipient) -> bool:
        """Whether `recipient` (from a file's metadata) is this key; sops stores a PGP key
        as typed in the config (sops-format.md 1.6), so a 16-hex long key id counts."""
        if recipient == self.recipient:
            return True
        return (recipient.type == "pgp" == self.type and len(recipient.id) == 16
                and self.recipient.id.endswith(recipient.id))

    @property
    def managed(self) -> bool:
        """An age or PGP key: one whose private part a person or cluster holds."""
        return self.type in MANAGED_KEY_TYPES

    def serves(self, cluster: str) -> bool:
        return ALL_CLUSTERS in self.clusters or cluster in self.clusters

    def expired(self, today: date) -> bool:
        return self.expires is not None and today > self.expires

    def effective_status(self, today: date) -> Literal["active", "retired", "revoked",
                                                        "expired"]:
        """`expired` for an active key past its expiry date (treated as retired)."""
        if self.status == "active" and self.expired(today):
            return "expired"
        return self.status


@dataclass(frozen=True)
class GroupSpec:
    """One key group of a rule: the keys of these clusters plus these named keys."""

    clusters: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """One ordered path rule: which clusters read the files it matches, and how."""

    index: int
    glob: Glob
    clusters: tuple[str, ...]
    crypt_rule: CryptRule | None = None
    crypt_explicit: bool = False  # the rule itself sets (or nulls) a crypt rule field
    mac_only_encrypted: bool | None = None  # None: the default
    key_groups: tuple[GroupSpec, ...] = ()
    shamir_threshold: int | None = None
    description: str | None = None
    line: int | None = None

    @property
    def path(self) -> str:
        return self.glob.pattern

    @property
    def label(self) -> str:
        return f"rules[{self.index}]"


@dataclass(frozen=True)
class Defaults:
    crypt_rule: CryptRule | None = None  # for YAML and JSON files
    mac_only_encrypted: bool = False
    encrypted_files: tuple[Glob, ...] = ()


@dataclass(frozen=True)
class Registry:
    """A validated registry file."""

    path: Path
    version: int
    defaults: Defaults
    clusters: Mapping[str, Cluster]
    keys: Mapping[str, Key]
    rules: tuple[Rule, ...]
    warnings: tuple[str, ...] = ()

    def key_by_recipient(self, recipient: Recipient) -> Key | None:
        """The key a file's recipient stands for (a PGP long key id included)."""
        for key in self.keys.values():
            if key.recipient == recipient:
                return key
        return next((k for k in self.keys.values() if k.is_recipient(recipient)), None)

    def promises_encrypted(self, relpath: str) -> bool:
        """Whether `relpath` matches `defaults.encrypted_files` (must hold sops content).

        sops' own config file never does, although `**/*.sops.*` matches `.sops.yaml`
        (`*` may match nothing)."""
        if relpath.rsplit("/", 1)[-1] in SOPS_CONFIG_NAMES:
            return False
        return any(g.match(relpath) for g in self.defaults.encrypted_files)

    def crypt_rule_for(self, rule: Rule, fmt: Format) -> CryptRule | None:
        """The crypt rule of a file of format `fmt` under `rule` (None: every value)."""
        if fmt == "binary":
            return None  # sops: IsSingleValueStore clears every crypt rule field
        if rule.crypt_explicit:
            return rule.crypt_rule
        return self.defaults.crypt_rule if fmt in STRUCTURED else None

    def mac_only_encrypted(self, rule: Rule) -> bool:
        if rule.mac_only_encrypted is None:
            return self.defaults.mac_only_encrypted
        return rule.mac_only_encrypted
