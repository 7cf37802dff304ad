"""Loading and strictly validating a registry file (format version 1).

Every problem is collected, with the file, line and key path, and reported together in one
ConfigError (exit 3), so a user fixes them in one pass. The format reference with every
field and rule is docs/registry.md.
"""

from __future__ import annotations

import dataclasses
from functools import partial
from pathlib import Path
from typing import Any

from sopskit import yamlio
from sopskit.errors import ConfigError, InputError
from sopskit.registry import fields
from sopskit.registry.glob import Glob
from sopskit.registry.model import (
    Cluster,
    Defaults,
    Registry,
)
from sopskit.registry.schema_check import (
    Ctx,
    _glob,
    as_bool,
    as_str_list,
    check_keys,
    checked,
    crypt_fields,
    line_of,
)
from sopskit.registry.schema_keys import _keys
from sopskit.registry.schema_rules import _idle_rule_warnings, _rules
from sopskit.sopsfile.model import CRYPT_RULE_KINDS

VERSION = 1


TOP_FIELDS = ("version", "defaults", "clusters", "keys", "rules")


DEFAULT_FIELDS = (*CRYPT_RULE_KINDS, "mac_only_encrypted", "encrypted_files")


CLUSTER_FIELDS = ("description",)


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
