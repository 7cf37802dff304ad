"""Build `Metadata` from a file's `sops` block (stores/stores.go: Metadata.ToInternal).

Input is plain Python data (dict/list/scalars) whatever the store; dotenv and INI flatten
it first (`unflatten`, stores/flatten.go). Problems that make a file suspicious but still
readable (bad `lastmodified`, several crypt rules, unknown fields) are collected as issues
for `verify.check_structure` instead of failing the parse.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sopskit import regex as re2go
from sopskit.sopsfile.gorender import format_f
from sopskit.sopsfile.model import (
    CRYPT_RULE_KINDS,
    AgeStanza,
    CryptRule,
    KeyGroup,
    Metadata,
    OtherStanza,
    PgpStanza,
)
from sopskit.sopsfile.tree import GoTime

KEY_TYPES = ("age", "pgp", "kms", "gcp_kms", "azure_kv", "hc_vault", "hckms")
KNOWN_FIELDS = frozenset({
    *KEY_TYPES, *CRYPT_RULE_KINDS, "key_groups", "shamir_threshold", "lastmodified", "mac",
    "mac_only_encrypted", "version",
})
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


@dataclass(frozen=True)
class Issue:
    """A metadata problem: which field (`sops.<field>`) and what is wrong."""

    key_path: str
    message: str
    note: bool = False  # something sops ignores: worth a note, never a failure


@dataclass
class _Build:
    issues: list[Issue] = field(default_factory=list)

    def issue(self, key: str, message: str, *, note: bool = False) -> None:
        self.issues.append(Issue(f"sops.{key}" if key else "sops", message, note))


def build(raw: Mapping[str, Any]) -> tuple[Metadata, tuple[Issue, ...]]:
    """Metadata from the decoded `sops` mapping, plus every issue found on the way."""
    b = _Build()
    for key in raw:
        if key not in KNOWN_FIELDS:
            # sops decodes metadata into a struct and drops other fields (`attention`, written
            # by sops 1.x, or a newer sops' field): they change nothing it does
            b.issue(key, "metadata field sops ignores", note=True)
    rules = [CryptRule(k, _text(raw[k])) for k in CRYPT_RULE_KINDS if _text(raw.get(k))]
    if len(rules) > 1:
        b.issue(rules[1].kind, "more than one crypt rule: "
                + ", ".join(r.kind for r in rules) + " (sops refuses such a file)")
    for rule in rules:
        _check_regex(rule, b)
    meta = Metadata(
        key_groups=_key_groups(raw, b),
        lastmodified=_lastmodified(raw, b),
        mac=_text(raw.get("mac")),
        version=_text(raw.get("version")),
        crypt_rule=rules[0] if rules else None,
        mac_only_encrypted=_bool(raw.get("mac_only_encrypted"), "mac_only_encrypted", b),
        shamir_threshold=_int(raw.get("shamir_threshold"), "shamir_threshold", b),
    )
    if not meta.version:
        b.issue("version", "missing")
    return meta, tuple(b.issues)


def _check_regex(rule: CryptRule, b: _Build) -> None:
    """sops ignores an invalid crypt-rule regex (`Tree.shouldBeEncrypted`), so with an
    invalid `encrypted_regex` no value is encrypted: the file cannot be trusted to hold
    what its rule seems to promise. Valid means valid to Go's regexp (`sopskit.regex`)."""
    if not rule.kind.endswith("regex"):
        return
    try:
        re2go.compile(rule.value)
    except re2go.InvalidRegex as exc:
        b.issue(rule.kind, f"is not a valid RE2 regular expression ({re2go.short(exc)}; sops "
                "ignores it, so the values it names are not encrypted as intended)")


def rfc3339_ok(text: str) -> bool:
    if not _RFC3339.match(text):
        return False
    try:
        datetime.fromisoformat(text.upper().replace("Z", "+00:00")[:19])
    except ValueError:
        return False
    return True


def _lastmodified(raw: Mapping[str, Any], b: _Build) -> str:
    value = raw.get("lastmodified")
    text = value.rfc3339 if isinstance(value, GoTime) else _text(value)
    if not text:
        b.issue("lastmodified", "missing")
    elif not rfc3339_ok(text):
        b.issue("lastmodified", "is not an RFC 3339 time")
    return text


def _key_groups(raw: Mapping[str, Any], b: _Build) -> tuple[KeyGroup, ...]:
    """metadata.internalKeygroups: non-empty top-level lists win over `key_groups`."""
    if any(raw.get(t) for t in KEY_TYPES):
        return (_group(raw, "", b),)
    groups = raw.get("key_groups") or []
    if not isinstance(groups, list):
        b.issue("key_groups", "must be a list")
        return ()
    out = []
    for i, group in enumerate(groups):
        if isinstance(group, Mapping):
            out.append(_group(group, f"key_groups[{i}].", b))
        else:
            b.issue(f"key_groups[{i}]", "must be a mapping")
    if not out:
        b.issue("", "no keys found in file (no age, pgp, kms, ... entries)")
    return tuple(out)


def _group(raw: Mapping[str, Any], where: str, b: _Build) -> KeyGroup:
    age, pgp, other = [], [], []
    for kind in KEY_TYPES:
        entries = raw.get(kind) or []
        if not isinstance(entries, list):
            b.issue(f"{where}{kind}", "must be a list")
            continue
        for i, entry in enumerate(entries):
            if not isinstance(entry, Mapping):
                b.issue(f"{where}{kind}[{i}]", "must be a mapping")
                continue
            _check_stanza(kind, entry, f"{where}{kind}[{i}]", b)
            enc, created = _text(entry.get("enc")), _text(entry.get("created_at")) or None
            if kind == "age":
                age.append(AgeStanza(_text(entry.get("recipient")), enc))
            elif kind == "pgp":
                pgp.append(PgpStanza(_text(entry.get("fp")), enc, created))
            else:
                other.append(OtherStanza(kind, _other_id(kind, entry), enc,  # type: ignore[arg-type]
                                         created))
    return KeyGroup(tuple(age), tuple(pgp), tuple(other))


def _check_stanza(kind: str, entry: Mapping[str, Any], where: str, b: _Build) -> None:
    if not isinstance(entry.get("enc"), str) or not entry.get("enc"):
        b.issue(f"{where}.enc", "missing encrypted data key")
    ident = {"age": "recipient", "pgp": "fp"}.get(kind)
    if ident and not _text(entry.get(ident)):
        b.issue(f"{where}.{ident}", "missing")


def _other_id(kind: str, e: Mapping[str, Any]) -> str:
    """The master key's ToString() in sops (kms/gcpkms/azkv/hcvault/hckms keysource.go)."""
    if kind == "kms":
        arn, role = _text(e.get("arn")), _text(e.get("role"))
        return f"{arn}+{role}" if role else arn
    if kind == "gcp_kms":
        return _text(e.get("resource_id"))
    if kind == "azure_kv":
        return f"{_text(e.get('vault_url'))}/keys/{_text(e.get('name'))}/{_text(e.get('version'))}"
    if kind == "hc_vault":
        return (f"{_text(e.get('vault_address'))}/v1/{_text(e.get('engine_path'))}/keys/"
                f"{_text(e.get('key_name'))}")
    return _text(e.get("key_id"))


def _text(value: Any) -> str:
    """mapstructure WeaklyTypedInput to string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return format_f(value)
    if isinstance(value, GoTime):
        return value.rfc3339
    return str(value)


def _bool(value: Any, key: str, b: _Build) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "t", "true"):
        return True
    if text not in ("0", "f", "false"):
        b.issue(key, "must be true or false")
    return False


def _int(value: Any, key: str, b: _Build) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(str(value))
    except ValueError:
        b.issue(key, "must be an integer")
        return None


def unflatten(flat: Mapping[str, str]) -> dict[str, Any]:
    """stores/flatten.go Unflatten: `a__list_0__map_b` -> {"a": [{"b": ...}]}."""
    root: dict[str, Any] = {}
    for key, value in flat.items():
        try:
            _unflatten_one(root, key, value)
        except (ValueError, TypeError):
            continue  # a malformed key: the fields it should fill are reported as missing
    return root


_MAX_LIST_INDEX = 10_000


def _unflatten_one(root: dict[str, Any], key: str, value: str) -> None:
    parts = key.split("__")
    node: Any = root
    steps: list[str | int] = [parts[0]]
    for part in parts[1:]:
        if part.startswith("list_") and part[5:].isdigit():
            if int(part[5:]) > _MAX_LIST_INDEX:
                raise ValueError("list index out of range")
            steps.append(int(part[5:]))
        elif part.startswith("map_"):
            steps.append(part[4:])
        else:
            steps[-1] = f"{steps[-1]}__{part}"
    for step, nxt in itertools.pairwise(steps):
        node = _child(node, step, [] if isinstance(nxt, int) else {})
    _set(node, steps[-1], value)


def _shape(node: Any, step: str | int) -> None:
    """A step into a map needs a map, into a list a list: `age__list_0=x` followed by
    `age__list_0__map_enc=…` makes `age[0]` a string that the second key would index."""
    if not ((isinstance(node, dict) and isinstance(step, str))
            or (isinstance(node, list) and isinstance(step, int))):
        raise TypeError("flattened key mixes lists, maps and values")


def _child(node: Any, step: str | int, empty: Any) -> Any:
    _shape(node, step)
    if isinstance(node, dict):
        return node.setdefault(step, empty)
    while len(node) <= int(step):
        node.append(None)
    if node[int(step)] is None:
        node[int(step)] = empty
    return node[int(step)]


def _set(node: Any, step: str | int, value: str) -> None:
    _shape(node, step)
    if isinstance(node, dict):
        node[step] = value
        return
    while len(node) <= int(step):
        node.append(None)
    node[int(step)] = value
