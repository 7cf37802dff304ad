"""Loading and strictly validating a registry file (format version 1).

Every problem is collected, with the file, line and key path, and reported together in one
ConfigError (exit 3), so a user fixes them in one pass. The format reference with every
field and rule is docs/registry.md.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sopskit import yamlio
from sopskit.errors import BinaryError, ConfigError, InputError
from sopskit.gpg import inspect_key_file
from sopskit.recipient import Recipient
from sopskit.registry import fields
from sopskit.registry.glob import Glob, GlobError
from sopskit.registry.model import (
    ALL_CLUSTERS,
    MANAGED_KEY_TYPES,
    SERVICE_KEY_TYPES,
    STATUSES,
    Cluster,
    Defaults,
    GroupSpec,
    Key,
    Registry,
    Rule,
)
from sopskit.registry.shadow import shadow_problems
from sopskit.sopsfile.model import CRYPT_RULE_KINDS, CryptRule

VERSION = 1
TOP_FIELDS = ("version", "defaults", "clusters", "keys", "rules")
DEFAULT_FIELDS = (*CRYPT_RULE_KINDS, "mac_only_encrypted", "encrypted_files")
CLUSTER_FIELDS = ("description",)
KEY_FIELDS = ("type", "recipient", "fingerprint", "public_key", "owner", "description",
              "clusters", "created", "expires", "status")
RULE_FIELDS = ("path", "clusters", "description", *CRYPT_RULE_KINDS, "mac_only_encrypted",
               "key_groups", "shamir_threshold")
GROUP_FIELDS = ("clusters", "keys")
ALL_KEY_TYPES = (*MANAGED_KEY_TYPES, *SERVICE_KEY_TYPES)

T = TypeVar("T")


@dataclass
class Ctx:
    """Problems found so far, and what later checks need to know."""

    path: Path
    problems: list[tuple[int | None, str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    clusters: tuple[str, ...] = ()

    def add(self, where: str, message: str, line: int | None = None) -> None:
        self.problems.append((line, where, message))

    def rendered(self) -> tuple[str, ...]:
        return tuple(f"{self.path}:{line}: {where}: {msg}" if line else
                     f"{self.path}: {where}: {msg}" for line, where, msg in self.problems)


def line_of(container: Any, key: object) -> int | None:
    """1-based line of `key` in a round-trip loaded mapping or sequence, if known."""
    lc: Any = getattr(container, "lc", None)
    try:
        if isinstance(key, int) and isinstance(container, list):
            return int(lc.item(key)[0]) + 1
        return int(lc.key(key)[0]) + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return None


def suggest(word: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word.replace("-", "_").lower(), choices, n=1, cutoff=0.6)
    return f", did you mean {close[0]}?" if close else f" (known: {', '.join(choices)})"


def check_keys(ctx: Ctx, where: str, mapping: Mapping[Any, Any], allowed: tuple[str, ...]) -> None:
    for key in mapping:
        if str(key) not in allowed:
            ctx.add(f"{where}.{key}" if where else str(key),
                    f"unknown key{suggest(str(key), allowed)}", line_of(mapping, key))


def load_registry(path: Path | str) -> Registry:
    """Read, parse and validate the registry at `path`; ConfigError lists every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("registry file does not exist", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read registry ({type(exc).__name__})", path=path) from None
    return parse_registry(text, path)


def parse_registry(text: str, path: Path) -> Registry:
    """Validate registry `text` (the content of `path`, which anchors relative paths)."""
    try:
        data = yamlio.load(text, path=str(path), rt=True)
    except InputError as exc:
        raise ConfigError("the registry is not valid YAML", path=path,
                          problems=(str(exc),)) from None
    ctx = Ctx(path)
    registry = _build(ctx, data)
    if ctx.problems or registry is None:
        count = len(ctx.problems)
        raise ConfigError(f"invalid registry ({count} problem{'s' if count != 1 else ''})",
                          path=path, problems=ctx.rendered())
    return registry


def _build(ctx: Ctx, data: Any) -> Registry | None:
    if not isinstance(data, dict):
        ctx.add("(top level)", "the registry must be a mapping with version, clusters, keys"
                " and rules")
        return None
    check_keys(ctx, "", data, TOP_FIELDS)
    version = data.get("version")
    if type(version) is not int or version != VERSION:  # `true` and `1.0` equal 1 in Python
        ctx.add("version", f"must be {VERSION} (this sopskit reads registry format {VERSION})",
                line_of(data, "version"))
    clusters = _clusters(ctx, data.get("clusters"), data)
    ctx.clusters = tuple(clusters)
    defaults = _defaults(ctx, data.get("defaults"), line_of(data, "defaults"))
    keys = _keys(ctx, data.get("keys"), line_of(data, "keys"))
    rules = _rules(ctx, data.get("rules"), keys, line_of(data, "rules"))
    registry = Registry(ctx.path, VERSION, defaults, clusters, keys, rules)
    ctx.warnings.extend(_idle_rule_warnings(registry))
    return dataclasses.replace(registry, warnings=tuple(ctx.warnings))


# --- small typed readers ------------------------------------------------------------------

def as_str(ctx: Ctx, where: str, value: Any, line: int | None) -> str | None:
    if isinstance(value, str) and value.strip():
        return value
    ctx.add(where, "must be a non-empty string", line)
    return None


def as_str_list(ctx: Ctx, where: str, value: Any, line: int | None) -> tuple[str, ...] | None:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        ctx.add(where, "must be a non-empty list of strings", line)
        return None
    return tuple(value)


def checked(ctx: Ctx, where: str, line: int | None, fn: Callable[[], T]) -> T | None:
    try:
        return fn()
    except ValueError as exc:
        ctx.add(where, str(exc), line)
        return None


def cluster_refs(ctx: Ctx, where: str, names: tuple[str, ...], line: int | None) -> None:
    for name in names:
        if name != ALL_CLUSTERS and name not in ctx.clusters:
            ctx.add(where, f"unknown cluster {name!r}{suggest(name, ctx.clusters)}", line)


# --- sections ------------------------------------------------------------------------------

def _clusters(ctx: Ctx, raw: Any, top: Any) -> dict[str, Cluster]:
    if not isinstance(raw, dict) or not raw:
        ctx.add("clusters", "must be a non-empty mapping of cluster names",
                line_of(top, "clusters"))
        return {}
    out: dict[str, Cluster] = {}
    for name, body in raw.items():
        where, line = f"clusters.{name}", line_of(raw, name)
        if checked(ctx, where, line, partial(fields.name, str(name), "cluster")) is None:
            continue
        if body is not None and not isinstance(body, dict):
            ctx.add(where, "must be a mapping (e.g. {description: ...}) or empty", line)
            continue
        check_keys(ctx, where, body or {}, CLUSTER_FIELDS)
        out[str(name)] = Cluster(str(name), str((body or {}).get("description") or ""))
    return out


def crypt_fields(ctx: Ctx, where: str, raw: Mapping[Any, Any]) -> tuple[bool, CryptRule | None]:
    """(whether any crypt field is present, the one rule set) from a defaults/rule mapping."""
    present = [k for k in CRYPT_RULE_KINDS if k in raw]
    present.sort(key=list(raw).index)  # name them in file order
    set_ = [k for k in present if raw[k] is not None]
    if len(set_) > 1:
        ctx.add(where, f"more than one crypt rule ({', '.join(set_)}): sops applies exactly one",
                line_of(raw, set_[1]))
        return True, None
    if not set_:
        return bool(present), None
    kind = set_[0]
    value = as_str(ctx, f"{where}.{kind}", raw[kind], line_of(raw, kind))
    if value is not None and kind.endswith("_regex"):
        value = checked(ctx, f"{where}.{kind}", line_of(raw, kind),
                        lambda: fields.crypt_regex(str(raw[kind])))
    return True, CryptRule(kind, value) if value is not None else None


def as_bool(ctx: Ctx, where: str, raw: Mapping[Any, Any], key: str) -> bool | None:
    if key not in raw:
        return None
    value = raw[key]
    if isinstance(value, bool):
        return value
    ctx.add(f"{where}.{key}", "must be true or false", line_of(raw, key))
    return None


def _defaults(ctx: Ctx, raw: Any, line: int | None) -> Defaults:
    if raw is None:
        return Defaults()
    if not isinstance(raw, dict):
        ctx.add("defaults", "must be a mapping", line)
        return Defaults()
    check_keys(ctx, "defaults", raw, DEFAULT_FIELDS)
    _, crypt = crypt_fields(ctx, "defaults", raw)
    globs: list[Glob] = []
    if "encrypted_files" in raw:
        line = line_of(raw, "encrypted_files")
        for pattern in as_str_list(ctx, "defaults.encrypted_files", raw["encrypted_files"],
                                   line) or ():
            glob = checked(ctx, "defaults.encrypted_files", line,
                           partial(_glob, pattern))
            if glob is not None:
                globs.append(glob)
    return Defaults(crypt, bool(as_bool(ctx, "defaults", raw, "mac_only_encrypted")),
                    tuple(globs))


def _glob(pattern: str) -> Glob:
    try:
        return Glob.compile(pattern)
    except GlobError as exc:
        raise ValueError(f"invalid glob {pattern!r}: {exc}") from None


def _keys(ctx: Ctx, raw: Any, line: int | None) -> dict[str, Key]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        ctx.add("keys", "must be a mapping of key names", line)
        return {}
    out: dict[str, Key] = {}
    for name, body in raw.items():
        key = _key(ctx, str(name), body, line_of(raw, name))
        if key is not None:
            out[key.name] = key
    _duplicate_recipients(ctx, out)
    return out


def _duplicate_recipients(ctx: Ctx, keys: Mapping[str, Key]) -> None:
    seen: dict[Recipient, str] = {}
    for key in keys.values():
        if key.recipient in seen:
            ctx.add(f"keys.{key.name}", f"same {key.type} recipient as keys.{seen[key.recipient]}"
                    " (a duplicate key)", key.line)
        else:
            seen[key.recipient] = key.name


def _key(ctx: Ctx, name: str, raw: Any, line: int | None) -> Key | None:
    where = f"keys.{name}"
    if checked(ctx, where, line, lambda: fields.name(name, "key")) is None:
        return None
    if not isinstance(raw, dict):
        ctx.add(where, "must be a mapping with type, recipient or fingerprint, and clusters",
                line)
        return None
    check_keys(ctx, where, raw, KEY_FIELDS)
    kind = raw.get("type")
    if kind not in (*MANAGED_KEY_TYPES, *SERVICE_KEY_TYPES):
        ctx.add(f"{where}.type", f"must be one of {', '.join(ALL_KEY_TYPES)}"
                if kind is not None else "missing (age or pgp)", line_of(raw, "type") or line)
        return None
    if kind in SERVICE_KEY_TYPES:
        recipient, public_key = _service(ctx, where, raw, line, kind), None
    else:
        recipient, public_key = (_age(ctx, where, raw, line) if kind == "age"
                                 else _pgp(ctx, where, raw, line))
    lifecycle = _lifecycle(ctx, where, raw)
    clusters = _key_clusters(ctx, where, raw, line)
    if recipient is None or lifecycle is None or clusters is None:
        return None
    status, created, expires = lifecycle
    return Key(name, kind, recipient, clusters, status, _opt_str(raw, "owner"),
               _opt_str(raw, "description"), created, expires, public_key, line)


def _opt_str(raw: Mapping[Any, Any], key: str) -> str | None:
    value = raw.get(key)
    return str(value) if value is not None else None


def _key_clusters(ctx: Ctx, where: str, raw: Mapping[Any, Any],
                  line: int | None) -> tuple[str, ...] | None:
    if "clusters" not in raw:
        ctx.add(f"{where}.clusters", 'missing (a list of cluster names, or ["*"])', line)
        return None
    return _cluster_list(ctx, where, raw)


def _cluster_list(ctx: Ctx, where: str, raw: Mapping[Any, Any]) -> tuple[str, ...] | None:
    """`raw["clusters"]`: a list of strings naming known clusters (problems recorded)."""
    cline = line_of(raw, "clusters")
    names = as_str_list(ctx, f"{where}.clusters", raw["clusters"], cline)
    if names is not None:
        cluster_refs(ctx, f"{where}.clusters", names, cline)
    return names


def _age(ctx: Ctx, where: str, raw: Mapping[Any, Any],
         line: int | None) -> tuple[Recipient | None, None]:
    for other in ("fingerprint", "public_key"):
        if other in raw:
            ctx.add(f"{where}.{other}", "only for pgp keys", line_of(raw, other))
    if not isinstance(raw.get("recipient"), str):
        ctx.add(f"{where}.recipient", "missing (the age1... public key)", line)
        return None, None
    rline = line_of(raw, "recipient")
    text = checked(ctx, f"{where}.recipient", rline,
                   lambda: fields.age_recipient(str(raw["recipient"])))
    return (Recipient.age(text) if text else None), None


def _service(ctx: Ctx, where: str, raw: Mapping[Any, Any], line: int | None,
             kind: str) -> Recipient | None:
    """A cloud KMS / Vault key, by the id sops writes for it in a file's metadata."""
    for other in ("fingerprint", "public_key"):
        if other in raw:
            ctx.add(f"{where}.{other}", "only for pgp keys", line_of(raw, other))
    if not isinstance(raw.get("recipient"), str):
        ctx.add(f"{where}.recipient", f"missing ({fields.SERVICE_ID_HELP[kind]})", line)
        return None
    text = checked(ctx, f"{where}.recipient", line_of(raw, "recipient"),
                   lambda: fields.service_id(kind, str(raw["recipient"])))
    return Recipient(kind, text) if text else None  # type: ignore[arg-type]


def _pgp(ctx: Ctx, where: str, raw: Mapping[Any, Any],
         line: int | None) -> tuple[Recipient | None, Path | None]:
    if "recipient" in raw:
        ctx.add(f"{where}.recipient", "only for age keys (pgp keys have a fingerprint)",
                line_of(raw, "recipient"))
    if not isinstance(raw.get("fingerprint"), str):
        ctx.add(f"{where}.fingerprint", "missing (40 hex digits)", line)
        return None, None
    fline = line_of(raw, "fingerprint")
    fpr = checked(ctx, f"{where}.fingerprint", fline,
                  lambda: fields.fingerprint(str(raw["fingerprint"])))
    public_key = None
    if "public_key" in raw:
        public_key = _public_key(ctx, where, raw, fpr)
    return (Recipient.pgp(fpr) if fpr else None), public_key


def _public_key(ctx: Ctx, where: str, raw: Mapping[Any, Any], fpr: str | None) -> Path | None:
    pline, here = line_of(raw, "public_key"), f"{where}.public_key"
    rel = as_str(ctx, here, raw["public_key"], pline)
    if rel is None:
        return None
    path = (ctx.path.parent / rel).resolve()
    if not path.is_file():
        ctx.add(here, f"file not found: {rel} (relative to the registry)", pline)
        return None
    try:
        info = inspect_key_file(path)
    except BinaryError as exc:
        ctx.warnings.append(f"{here}: not checked against the fingerprint ({exc})")
        return path
    except InputError as exc:
        ctx.add(here, f"{rel}: {exc.message}", pline)
        return None
    if info.has_secret:
        ctx.add(here, f"{rel} holds a PRIVATE key: keep only public keys in the repository",
                pline)
    if fpr is not None and info.fingerprints != (fpr,):
        found = ", ".join(info.fingerprints) or "none"
        ctx.add(here, f"{rel} holds key {found}, not the fingerprint {fpr}", pline)
    return path


def _lifecycle(ctx: Ctx, where: str, raw: Mapping[Any, Any]) -> tuple[Any, Any, Any] | None:
    status = raw.get("status", "active")
    ok = True
    if status not in STATUSES:
        ctx.add(f"{where}.status", f"unknown status {status!r} (active, retired or revoked)",
                line_of(raw, "status"))
        ok = False
    dates = {}
    for which in ("created", "expires"):
        if raw.get(which) is not None:
            dates[which] = checked(ctx, f"{where}.{which}", line_of(raw, which),
                                   partial(fields.a_date, raw[which]))
            ok = ok and dates[which] is not None
    created, expires = dates.get("created"), dates.get("expires")
    if created and expires and expires < created:
        ctx.add(f"{where}.expires", f"{expires} is before created ({created})",
                line_of(raw, "expires"))
        ok = False
    return (status, created, expires) if ok else None


# --- rules ---------------------------------------------------------------------------------

def _rules(ctx: Ctx, raw: Any, keys: Mapping[str, Key], line: int | None) -> tuple[Rule, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        ctx.add("rules", "must be a list of rules (first match wins)", line)
        return ()
    rules = [r for i, body in enumerate(raw)
             if (r := _rule(ctx, i, body, line_of(raw, i), keys)) is not None]
    for where, message, at_line in shadow_problems(rules, ctx.warnings):
        ctx.add(where, message, at_line)
    return tuple(rules)


def _rule(ctx: Ctx, index: int, raw: Any, line: int | None,
          keys: Mapping[str, Key]) -> Rule | None:
    where = f"rules[{index}]"
    if not isinstance(raw, dict):
        ctx.add(where, "must be a mapping with path and clusters", line)
        return None
    check_keys(ctx, where, raw, RULE_FIELDS)
    glob = _rule_glob(ctx, where, raw, line)
    groups = _groups(ctx, where, raw, keys)
    clusters = _rule_clusters(ctx, where, raw, line, groups)
    explicit, crypt = crypt_fields(ctx, where, raw)
    mac_only = as_bool(ctx, where, raw, "mac_only_encrypted")
    threshold = _threshold(ctx, where, raw, groups)
    if glob is None or clusters is None or groups is None:
        return None
    return Rule(index, glob, clusters, crypt, explicit, mac_only, groups, threshold,
                _opt_str(raw, "description"), line)


def _rule_glob(ctx: Ctx, where: str, raw: Mapping[Any, Any], line: int | None) -> Glob | None:
    if "path" not in raw:
        ctx.add(f"{where}.path", "missing (a repository-relative glob)", line)
        return None
    pline = line_of(raw, "path")
    pattern = as_str(ctx, f"{where}.path", raw["path"], pline)
    if pattern is None:
        return None
    return checked(ctx, f"{where}.path", pline, lambda: _glob(pattern))


def _rule_clusters(ctx: Ctx, where: str, raw: Mapping[Any, Any], line: int | None,
                   groups: tuple[GroupSpec, ...] | None) -> tuple[str, ...] | None:
    if "clusters" not in raw:
        if groups:
            return tuple(dict.fromkeys(c for g in groups for c in g.clusters))
        ctx.add(f"{where}.clusters", "missing (the clusters that read these files)", line)
        return None
    return _cluster_list(ctx, where, raw)


def _groups(ctx: Ctx, where: str, raw: Mapping[Any, Any],
            keys: Mapping[str, Key]) -> tuple[GroupSpec, ...] | None:
    if "key_groups" not in raw:
        return ()
    gline = line_of(raw, "key_groups")
    groups_raw = raw["key_groups"]
    if not isinstance(groups_raw, list) or not groups_raw:
        ctx.add(f"{where}.key_groups", "must be a non-empty list of groups", gline)
        return None
    groups = [_group(ctx, f"{where}.key_groups[{i}]", g, line_of(groups_raw, i) or gline, keys)
              for i, g in enumerate(groups_raw)]
    if any(g is None for g in groups):
        return None
    return tuple(g for g in groups if g is not None)


def _group(ctx: Ctx, where: str, raw: Any, line: int | None,
           keys: Mapping[str, Key]) -> GroupSpec | None:
    if isinstance(raw, list):  # a bare list names clusters
        raw = {"clusters": raw}
    if not isinstance(raw, dict) or not (raw.get("clusters") or raw.get("keys")):
        ctx.add(where, "must be a list of clusters or a mapping with clusters and/or keys",
                line)
        return None
    check_keys(ctx, where, raw, GROUP_FIELDS)
    clusters = as_str_list(ctx, f"{where}.clusters", raw["clusters"], line) \
        if "clusters" in raw else ()
    names = as_str_list(ctx, f"{where}.keys", raw["keys"], line) if "keys" in raw else ()
    if clusters is None or names is None:
        return None
    cluster_refs(ctx, f"{where}.clusters", clusters, line)
    for name in names:
        if name not in keys:
            ctx.add(f"{where}.keys", f"unknown key {name!r}{suggest(name, tuple(keys))}", line)
    return GroupSpec(clusters, names)


def _threshold(ctx: Ctx, where: str, raw: Mapping[Any, Any],
               groups: tuple[GroupSpec, ...] | None) -> int | None:
    if "shamir_threshold" not in raw:
        return None
    value, tline = raw["shamir_threshold"], line_of(raw, "shamir_threshold")
    count = len(groups or ())
    if not groups or count < 2:
        ctx.add(f"{where}.shamir_threshold", "needs key_groups with at least two groups",
                tline)
    elif isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= count:
        ctx.add(f"{where}.shamir_threshold", f"must be a whole number from 1 to {count}"
                " (the number of key groups)", tline)
    else:
        return value
    return None


def _idle_rule_warnings(registry: Registry) -> list[str]:
    """Rules no active key serves: sops would refuse to encrypt there."""
    from sopskit.registry.resolve import groups_of_rule  # resolve imports model only

    out = []
    for rule in registry.rules:
        groups = groups_of_rule(registry, rule, today=None)
        if not any(groups):
            out.append(f"{rule.label} ({rule.path}): no active key serves it; files there"
                       " cannot be encrypted")
        elif not all(groups):
            empty = ", ".join(str(i) for i, g in enumerate(groups) if not g)
            out.append(f"{rule.label}.key_groups[{empty}]: no active key in the group; sops"
                       " refuses to encrypt with an empty key group")
    return out
