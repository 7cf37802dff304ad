"""Path -> rule -> clusters -> recipients: who must be able to read a file, and how it is
encrypted.

Rules are tried top to bottom and the first whose glob matches wins (as sops does with
creation rules, `config.parseCreationRuleForFile`). The recipients are the active keys that
serve one of the rule's clusters; a key past its `expires` date counts as retired, with a
warning. The crypt rule depends on the file's format, which sops takes from the name
(`cmd/sops/formats`: case-sensitive suffixes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

from sopskit.errors import ConfigError
from sopskit.recipient import Recipient
from sopskit.registry.model import ALL_CLUSTERS, GroupSpec, Key, Registry, Rule
from sopskit.sopsfile.model import CryptRule, Format

ExcludedReason = Literal["retired", "revoked", "expired", "other-cluster"]

_SUFFIXES: tuple[tuple[str, Format], ...] = (
    (".yaml", "yaml"), (".yml", "yaml"), (".json", "json"), (".env", "dotenv"), (".ini", "ini"),
)


class NoMatchingRule(ConfigError):
    """No registry rule matches the path: it has no recipients (an error for encrypt)."""

    def __init__(self, relpath: str, registry: Registry) -> None:
        super().__init__(f"no rule of the registry matches {relpath}: it has no recipients;"
                         " add a rule for it", path=registry.path)
        self.relpath = relpath


@dataclass(frozen=True)
class Excluded:
    """A registry key that is not a recipient of the path, and why."""

    key: Key
    reason: ExcludedReason
    detail: str


@dataclass(frozen=True)
class Resolution:
    """Everything the registry says about one path."""

    path: str
    rule_index: int
    rule: Rule
    clusters: tuple[str, ...]
    recipients: frozenset[Recipient]
    keys: tuple[Key, ...]  # the recipients' registry keys, by name
    crypt_rule: CryptRule | None  # None: no crypt rule field, every value encrypted
    mac_only_encrypted: bool
    key_groups: tuple[frozenset[Recipient], ...]
    shamir_threshold: int | None
    excluded: tuple[Excluded, ...]
    format: Format
    warnings: tuple[str, ...] = ()
    tried: tuple[Rule, ...] = ()  # the rules before the match (none of them matched)


def today_utc() -> date:
    return datetime.now(UTC).date()


def sops_format(relpath: str) -> Format:
    """The store sops picks for a file name (cmd/sops/formats: HasSuffix, case-sensitive)."""
    for suffix, fmt in _SUFFIXES:
        if relpath.endswith(suffix):
            return fmt
    return "binary"


def normalise_relpath(relpath: str) -> str:
    text = relpath.replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    return text


def match_rule(registry: Registry, relpath: str) -> Rule | None:
    """The first rule whose glob matches `relpath` (repository-relative POSIX)."""
    path = normalise_relpath(relpath)
    return next((r for r in registry.rules if r.glob.match(path)), None)


def rule_clusters(registry: Registry, names: tuple[str, ...]) -> tuple[str, ...]:
    """Cluster names with `*` expanded to every cluster of the registry."""
    if ALL_CLUSTERS in names:
        return tuple(registry.clusters)
    return names


def _group_members(registry: Registry, group: GroupSpec) -> list[Key]:
    clusters = rule_clusters(registry, group.clusters)
    return [k for k in registry.keys.values()
            if k.name in group.keys or any(k.serves(c) for c in clusters)]


def _specs(rule: Rule) -> tuple[GroupSpec, ...]:
    return rule.key_groups or (GroupSpec(rule.clusters),)


def recipients_of_rule(registry: Registry, rule: Rule, *,
                       today: date | None) -> tuple[Key, ...]:
    """The keys a rule encrypts to: active (and, with `today`, not expired) members."""
    out: dict[str, Key] = {}
    for spec in _specs(rule):
        for key in _group_members(registry, spec):
            if _usable(key, today):
                out[key.name] = key
    return tuple(sorted(out.values(), key=lambda k: k.name))


def groups_of_rule(registry: Registry, rule: Rule, *,
                   today: date | None) -> tuple[frozenset[Recipient], ...]:
    """The rule's key groups as recipients (one group when the rule names none)."""
    return tuple(frozenset(k.recipient for k in _group_members(registry, spec)
                           if _usable(k, today)) for spec in _specs(rule))


def _usable(key: Key, today: date | None) -> bool:
    if key.status != "active":
        return False
    return today is None or not key.expired(today)


def resolve(registry: Registry, relpath: str, *, today: date | None = None,
            fmt: Format | None = None) -> Resolution:
    """What the registry says about `relpath`; NoMatchingRule when no rule matches.

    `fmt` overrides the format sops would take from the name (as `--input-type` does).
    """
    path = normalise_relpath(relpath)
    rule = match_rule(registry, path)
    if rule is None:
        raise NoMatchingRule(path, registry)
    day = today or today_utc()
    fmt = fmt or sops_format(path)
    keys = recipients_of_rule(registry, rule, today=day)
    excluded = _excluded(registry, rule, keys, day)
    return Resolution(
        path=path, rule_index=rule.index, rule=rule,
        clusters=rule_clusters(registry, rule.clusters),
        recipients=frozenset(k.recipient for k in keys), keys=keys,
        crypt_rule=registry.crypt_rule_for(rule, fmt),
        mac_only_encrypted=fmt != "binary" and registry.mac_only_encrypted(rule),
        key_groups=groups_of_rule(registry, rule, today=day),
        shamir_threshold=rule.shamir_threshold if rule.key_groups else None,
        excluded=excluded, format=fmt, warnings=_expiry_warnings(excluded),
        tried=registry.rules[:registry.rules.index(rule)])


def _expiry_warnings(excluded: tuple[Excluded, ...]) -> tuple[str, ...]:
    return tuple(f"key {e.key.name} expired on {e.key.expires}: treated as retired"
                 for e in excluded if e.reason == "expired")


def _excluded(registry: Registry, rule: Rule, chosen: tuple[Key, ...],
              today: date) -> tuple[Excluded, ...]:
    members = {k.name for spec in _specs(rule) for k in _group_members(registry, spec)}
    names = {k.name for k in chosen}
    out = []
    for key in sorted(registry.keys.values(), key=lambda k: k.name):
        if key.name in names:
            continue
        if key.name not in members:
            serves = ", ".join(key.clusters)
            out.append(Excluded(key, "other-cluster", f"serves {serves}, not"
                                f" {', '.join(rule_clusters(registry, rule.clusters))}"))
            continue
        status = key.effective_status(today)
        detail = f"expired on {key.expires}" if status == "expired" else f"status {status}"
        out.append(Excluded(key, status if status != "active" else "retired", detail))
    return tuple(out)


def resolve_or_none(registry: Registry, relpath: str, *, today: date | None = None,
                    fmt: Format | None = None) -> Resolution | None:
    """Like resolve, but None when no rule matches."""
    try:
        return resolve(registry, relpath, today=today, fmt=fmt)
    except NoMatchingRule:
        return None
