"""Validating the `rules` of a registry: path globs, clusters, key groups with a Shamir
threshold, and warnings for rules that never apply."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sopskit.registry.glob import Glob
from sopskit.registry.model import (
    GroupSpec,
    Key,
    Registry,
    Rule,
)
from sopskit.registry.schema_check import (
    Ctx,
    _glob,
    _opt_str,
    as_bool,
    as_str,
    as_str_list,
    check_keys,
    checked,
    cluster_refs,
    crypt_fields,
    line_of,
    suggest,
)
from sopskit.registry.schema_keys import _cluster_list
from sopskit.registry.shadow import shadow_problems
from sopskit.sopsfile.model import CRYPT_RULE_KINDS

RULE_FIELDS = ("path", "clusters", "description", *CRYPT_RULE_KINDS, "mac_only_encrypted",
               "key_groups", "shamir_threshold")


GROUP_FIELDS = ("clusters", "keys")


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
