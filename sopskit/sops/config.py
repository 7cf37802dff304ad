"""`.sops.yaml` creation rules, read natively, and the one-rule configs we hand to sops.

Matching mirrors `config.parseCreationRuleForFile` (sops-format.md 3.2): rules in file
order, first match wins, an empty `path_regex` matches everything, the regex is an
unanchored search (Go RE2 `MatchString`) over the path relative to the config file's
directory. `age`/`pgp` accept a comma-separated string or a list; `key_groups` replaces the
top-level keys of its rule.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sopskit import regex as re2go
from sopskit import yamlio
from sopskit.errors import ConfigError, InputError, UsageError
from sopskit.recipient import Recipient
from sopskit.sopsfile.model import CRYPT_RULE_KINDS, CryptRule

CONFIG_NAME = ".sops.yaml"
_OTHER_KEYS = ("kms", "gcp_kms", "azure_keyvault", "hc_vault_transit_uri", "hckms")


@dataclass(frozen=True)
class CreationRule:
    """Who a file is encrypted to and which values are encrypted: one sops creation rule."""

    key_groups: tuple[frozenset[Recipient], ...]
    crypt_rule: CryptRule | None = None
    mac_only_encrypted: bool = False
    shamir_threshold: int | None = None
    source: str = ""  # where the rule came from, for messages
    # Armored public key files of every PGP recipient, when known (the registry's
    # `public_key`): encryption then needs nothing from the user's keyring.
    pgp_key_files: tuple[Path, ...] = ()

    @property
    def recipients(self) -> frozenset[Recipient]:
        out: set[Recipient] = set()
        for group in self.key_groups:
            out |= group
        return frozenset(out)

    @classmethod
    def single(cls, recipients: Iterable[Recipient], **kwargs: Any) -> CreationRule:
        return cls(key_groups=(frozenset(recipients),), **kwargs)


def find_config(repo: Path) -> Path | None:
    """The `.sops.yaml` at the repository root, if any (never searched from the cwd)."""
    path = repo / CONFIG_NAME
    return path if path.is_file() else None


def rule_for(config: Path, target: Path) -> CreationRule:
    """The first creation rule of `config` matching `target` (sops' own choice)."""
    rules = _load_rules(config)
    rel = _match_path(config, target)
    for index, raw in enumerate(rules):
        regex = str(raw.get("path_regex") or "")
        if not regex or _search(regex, rel, config, index):
            return _to_rule(raw, config, index)
    raise ConfigError(f"no creation rule in {config} matches {rel}", path=target)


def _load_rules(config: Path) -> list[dict[str, Any]]:
    try:
        text = config.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.__class__.__name__
        raise InputError(f"cannot read sops config ({reason})", path=config) from None
    data = yamlio.load(text, path=str(config)) or {}
    rules = data.get("creation_rules") if isinstance(data, dict) else None
    if not isinstance(rules, list) or not rules:
        raise ConfigError("sops config has no creation_rules", path=config)
    if not all(isinstance(r, dict) for r in rules):
        raise ConfigError("every creation rule must be a mapping", path=config)
    return rules


def _match_path(config: Path, target: Path) -> str:
    """sops strips `abs(dir(config)) + sep` from the file's absolute path (PR #827)."""
    base = config.resolve().parent
    absolute = target.resolve()
    try:
        return absolute.relative_to(base).as_posix()
    except ValueError:
        return str(absolute)


def _search(regex: str, rel: str, config: Path, index: int) -> bool:
    """sops compiles path_regex with Go's regexp and fails on an invalid one (config.go)."""
    try:
        return re2go.compile(regex).search(rel)
    except re2go.InvalidRegex as exc:
        raise ConfigError(f"creation rule {index}: invalid path_regex ({re2go.short(exc)})",
                          path=config) from None


def _to_rule(raw: dict[str, Any], config: Path, index: int) -> CreationRule:
    where = f"{config} creation rule {index}"
    groups_raw = raw.get("key_groups")
    if groups_raw:
        if not isinstance(groups_raw, list):
            raise ConfigError(f"creation rule {index}: key_groups must be a list", path=config)
        groups = tuple(_group(g, split_age=True) for g in groups_raw)
    else:
        groups = (_group(raw, split_age=True),)
    if not any(groups):
        raise ConfigError(f"creation rule {index} names no keys", path=config)
    return CreationRule(groups, _crypt_rule(raw, config, index),
                        _mac_only(raw, config, index), _threshold(raw, config, index),
                        source=where)


def _threshold(raw: dict[str, Any], config: Path, index: int) -> int | None:
    value = raw.get("shamir_threshold")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"creation rule {index}: shamir_threshold must be a whole number",
                          path=config)
    return value or None


def _mac_only(raw: dict[str, Any], config: Path, index: int) -> bool:
    value = raw.get("mac_only_encrypted", False)
    if not isinstance(value, bool):
        raise ConfigError(f"creation rule {index}: mac_only_encrypted must be true or false",
                          path=config)
    return value


def _group(raw: Any, *, split_age: bool) -> frozenset[Recipient]:
    if not isinstance(raw, dict):
        return frozenset()
    out = {Recipient.age(a) for a in _items(raw.get("age"), split=split_age)}
    out |= {Recipient.pgp(p) for p in _items(raw.get("pgp"), split=True)}
    for kind in _OTHER_KEYS:
        for item in _items(raw.get(kind), split=True):
            name = "azure_kv" if kind == "azure_keyvault" else kind
            name = "hc_vault" if kind == "hc_vault_transit_uri" else name
            out.add(Recipient(name, item))  # type: ignore[arg-type]
    return frozenset(out)


def _items(value: Any, *, split: bool) -> list[str]:
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    out: list[str] = []
    for raw in values:
        v = raw
        if isinstance(raw, dict):  # kms/gcp entries inside key_groups
            v = raw.get("arn") or raw.get("resource_id") or raw.get("key_id") or raw.get("vaultUrl")
        parts = str(v).split(",") if split else [str(v)]
        out.extend(p.strip() for p in parts if p.strip())
    return out


def _crypt_rule(raw: dict[str, Any], config: Path, index: int) -> CryptRule | None:
    found = [CryptRule(k, str(raw[k])) for k in CRYPT_RULE_KINDS if raw.get(k) not in (None, "")]
    if len(found) > 1:
        kinds = ", ".join(r.kind for r in found)
        raise ConfigError(f"creation rule {index} sets more than one crypt rule ({kinds})",
                          path=config)
    for rule in found:
        _check_crypt_value(rule, raw[rule.kind], config, index)
    return found[0] if found else None


def _check_crypt_value(rule: CryptRule, value: Any, config: Path, index: int) -> None:
    """A crypt rule sops would silently not apply is an error here: sops ignores an
    invalid regex (`Tree.shouldBeEncrypted` drops the error), so an invalid
    `encrypted_regex` leaves every value in plaintext (sops-format.md 1.4)."""
    if isinstance(value, (dict, list)):
        raise ConfigError(f"creation rule {index}: {rule.kind} must be a string", path=config)
    if rule.kind.endswith("regex"):
        try:
            re2go.compile(rule.value)
        except re2go.InvalidRegex as exc:
            raise ConfigError(f"creation rule {index}: {rule.kind} is not a valid RE2 regular "
                              f"expression ({re2go.short(exc)}; sops would ignore it)",
                              path=config) from None


def render(rule: CreationRule) -> str:
    """A `.sops.yaml` with one catch-all creation rule holding exactly `rule` (public keys)."""
    entry: dict[str, Any] = {}
    if len(rule.key_groups) == 1:
        entry.update(_group_entry(rule.key_groups[0]))
    else:
        entry["key_groups"] = [_group_entry(g) for g in rule.key_groups]
        if rule.shamir_threshold:
            entry["shamir_threshold"] = rule.shamir_threshold
    if rule.crypt_rule is not None:
        entry[rule.crypt_rule.kind] = rule.crypt_rule.value
    if rule.mac_only_encrypted:
        entry["mac_only_encrypted"] = True
    return yamlio.dump({"creation_rules": [entry]})


def _group_entry(group: frozenset[Recipient]) -> dict[str, list[str]]:
    unsupported = sorted(str(r) for r in group if r.type not in ("age", "pgp"))
    if unsupported:
        raise UsageError(f"sopskit can only encrypt to age and PGP keys, not {unsupported[0]}")
    entry: dict[str, list[str]] = {}
    ages = sorted(r.id for r in group if r.type == "age")
    pgps = sorted(r.id for r in group if r.type == "pgp")
    if ages:
        entry["age"] = ages
    if pgps:
        entry["pgp"] = pgps
    return entry


class TempConfig:
    """A private directory holding a rendered one-rule `.sops.yaml`; removed on exit."""

    def __init__(self, rule: CreationRule) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="sopskit-cfg-")
        self.path = Path(self._dir.name) / CONFIG_NAME
        self.path.write_text(render(rule), encoding="utf-8")

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc: object) -> None:
        self._dir.cleanup()
