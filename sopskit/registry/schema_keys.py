"""Validating the `keys` of a registry: age, PGP (with its public key file) and cloud KMS /
Vault keys, their clusters and lifecycle, and duplicate recipients."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from sopskit.errors import BinaryError, InputError
from sopskit.gpg import inspect_key_file
from sopskit.recipient import Recipient
from sopskit.registry import fields
from sopskit.registry.model import (
    MANAGED_KEY_TYPES,
    SERVICE_KEY_TYPES,
    STATUSES,
    Key,
)
from sopskit.registry.schema_check import (
    Ctx,
    _opt_str,
    as_str,
    as_str_list,
    check_keys,
    checked,
    cluster_refs,
    line_of,
)

KEY_FIELDS = ("type", "recipient", "fingerprint", "public_key", "owner", "description",
              "clusters", "created", "expires", "status")


ALL_KEY_TYPES = (*MANAGED_KEY_TYPES, *SERVICE_KEY_TYPES)


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
