"""The `rules` operations: add, move and remove path rules (library side, no output).

Each edit goes through `registry.edit.plan`: the round-trip tree keeps the user's comments
and layout, the result is validated as a whole registry (the exact shadowing check among
them) before anything is written, and the file is replaced atomically under the registry
lock. Rule positions are the indices the registry's own messages use (`rules[2]`), from 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from sopskit.errors import UsageError
from sopskit.registry import edit
from sopskit.registry.model import Registry


@dataclass(frozen=True)
class Position:
    """Where a rule goes: before or after the rule at `index`; at the end when both are None."""

    before: int | None = None
    after: int | None = None

    def resolve(self, count: int, *, moving: int | None = None) -> int:
        """The list index to insert at, in a list of `count` rules (with `moving` removed)."""
        if self.before is not None and self.after is not None:
            raise UsageError("give either --before N or --after N, not both")
        anchor = self.before if self.before is not None else self.after
        if anchor is None:
            return count - (1 if moving is not None else 0)
        if not 0 <= anchor < count:
            raise UsageError(f"there is no rule {anchor} (the registry has {count} rules,"
                             f" numbered 0 to {count - 1}; see `sopskit rules list`)")
        if moving is not None and anchor == moving:
            raise UsageError(f"rule {anchor} cannot be moved relative to itself")
        shifted = anchor - 1 if moving is not None and moving < anchor else anchor
        return shifted if self.before is not None else shifted + 1


@dataclass(frozen=True)
class NewRule:
    """The fields of a rule being added."""

    path: str
    clusters: tuple[str, ...]
    crypt: tuple[str, str | None] | None = None  # (field, value); value None: every value
    mac_only_encrypted: bool | None = None
    description: str | None = None

    def mapping(self) -> CommentedMap:
        body = CommentedMap()
        body["path"] = self.path
        body["clusters"] = edit.flow_list(list(self.clusters))
        if self.crypt is not None:
            body[self.crypt[0]] = self.crypt[1]
        if self.mac_only_encrypted is not None:
            body["mac_only_encrypted"] = self.mac_only_encrypted
        if self.description:
            body["description"] = self.description
        return body


def _rules(data: Any, path: Path) -> CommentedSeq:
    rules = data.get("rules")
    if rules is None:
        rules = CommentedSeq()
        data["rules"] = rules
    if not isinstance(rules, CommentedSeq):
        raise UsageError("the registry's rules section is not a list", path=path)
    rules.fa.set_block_style()
    return rules


def _existing(rules: CommentedSeq, index: int) -> None:
    if not 0 <= index < len(rules):
        raise UsageError(f"there is no rule {index} (the registry has {len(rules)} rules;"
                         " see `sopskit rules list`)")


def add_rule(registry_path: Path, new: NewRule, where: Position) -> tuple[Registry, int]:
    """Insert `new`; returns the registry written and the new rule's index."""
    if not new.clusters:
        raise UsageError("a rule needs at least one cluster (--clusters a,b or '*')")
    placed: list[int] = []

    def mutate(data: Any) -> None:
        rules = _rules(data, registry_path)
        index = where.resolve(len(rules))
        rules.insert(index, new.mapping())
        placed.append(index)

    with edit.registry_lock(registry_path):
        registry = edit.plan(registry_path, mutate).commit()
    return registry, placed[0]


def move_rule(registry_path: Path, index: int, where: Position) -> tuple[Registry, int]:
    """Move rule `index` before/after another; returns the registry and its new index."""
    if where.before is None and where.after is None:
        raise UsageError("say where the rule goes: --before N or --after N")
    placed: list[int] = []

    def mutate(data: Any) -> None:
        rules = _rules(data, registry_path)
        _existing(rules, index)
        target = where.resolve(len(rules), moving=index)
        body = rules.pop(index)
        rules.insert(target, body)
        placed.append(target)

    with edit.registry_lock(registry_path):
        registry = edit.plan(registry_path, mutate).commit()
    return registry, placed[0]


def remove_rule(registry_path: Path, index: int) -> tuple[Registry, str]:
    """Delete rule `index`; returns the registry written and the removed rule's path glob."""
    removed: list[str] = []

    def mutate(data: Any) -> None:
        rules = _rules(data, registry_path)
        _existing(rules, index)
        body = rules.pop(index)
        removed.append(str(body.get("path")) if isinstance(body, dict) else "?")

    with edit.registry_lock(registry_path):
        registry = edit.plan(registry_path, mutate).commit()
    return registry, removed[0]
