"""Editing the registry file in place, keeping the user's comments, order and formatting.

Each edit loads the file with ruamel's round-trip loader (the file's own indentation is
detected and reused), changes only the affected nodes, validates the result as a whole
registry before anything is written, then replaces the file atomically (temp file in the
same directory, fsync, rename), keeping its permissions.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import itertools
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.representer import RoundTripRepresenter

from sopskit import yamlio
from sopskit.errors import ConfigError, InputError, UsageError
from sopskit.fsio import write_atomic
from sopskit.registry.model import Registry
from sopskit.registry.schema import parse_registry


@dataclass(frozen=True)
class PlannedEdit:
    """The new text of the registry file and the registry it validates to."""

    path: Path
    text: str
    registry: Registry

    def commit(self) -> Registry:
        write_atomic(self.path, self.text)
        return self.registry


_KEY_LINE = re.compile(r"^\s*(- )?[^#'\"]*:\s*(#.*)?$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def guess_indent(text: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) as the file uses them (default 2, 4,
    2). The sequence indent is where an item's content starts: `-   path:` under `rules:`
    is offset 0, sequence 4."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    mapping: int | None = None
    dash: tuple[int, int] | None = None
    for prev, line in itertools.pairwise(lines):
        if not _KEY_LINE.match(prev) or prev.lstrip().startswith("- "):
            continue
        step = _indent(line) - _indent(prev)
        if line.lstrip().startswith("- ") and dash is None and step >= 0:
            item = line.lstrip()[1:]
            dash = step, step + 1 + len(item) - len(item.lstrip(" "))
        elif step > 0 and mapping is None:
            mapping = step
    offset, sequence = dash or (2, 4)
    return mapping or 2, sequence, offset


class _NullKeepingRepresenter(RoundTripRepresenter):
    """Writes `null` where ruamel would leave a value empty (`encrypted_regex: null` stays).
    A subclass, because add_representer on ruamel's class would change every dump."""


_NullKeepingRepresenter.add_representer(
    type(None), lambda r, _d: r.represent_scalar("tag:yaml.org,2002:null", "null"))


def _dump(data: Any, original: str) -> str:
    mapping, sequence, offset = guess_indent(original)
    yaml = yamlio.round_trip()
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    yaml.Representer = _NullKeepingRepresenter
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue()


def plan(path: Path, mutate: Callable[[Any], None]) -> PlannedEdit:
    """Apply `mutate` to the round-trip tree of `path`; validate; write nothing yet."""
    try:
        original = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read registry ({exc.strerror})", path=path) from None
    parse_registry(original, path)  # an invalid file is reported as it is on disk
    data = yamlio.load(original, path=str(path), rt=True)
    if not isinstance(data, CommentedMap):
        raise InputError("the registry is not a mapping", path=path)
    mutate(data)
    text = _dump(data, original)
    try:
        return PlannedEdit(path, text, parse_registry(text, path))
    except ConfigError as exc:
        raise ConfigError("this change would make the registry invalid; nothing was written",
                          path=path, problems=exc.problems) from None


@contextlib.contextmanager
def registry_lock(path: Path) -> Iterator[None]:
    """Serialise read-modify-write cycles of two sopskit processes on one registry (an
    advisory lock on its directory: the file itself is replaced, so it cannot hold one)."""
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


# --- the edits -----------------------------------------------------------------------------

def _keys(data: Any) -> CommentedMap:
    keys = data.get("keys")
    if keys is None:
        keys = CommentedMap()
        data["keys"] = keys
    if not isinstance(keys, CommentedMap):
        raise UsageError("the registry's keys section is not a mapping")
    keys.fa.set_block_style()  # a scaffolded `keys: {}` grows into block style
    return keys


def flow_list(items: list[str]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


@dataclass(frozen=True)
class NewKey:
    """The fields of a key being added (public material only)."""

    name: str
    type: str  # age | pgp
    public: str  # age recipient or PGP fingerprint
    clusters: list[str]
    owner: str | None = None
    created: date | None = None
    expires: date | None = None
    public_key: str | None = None  # pgp: path relative to the registry

    def mapping(self) -> CommentedMap:
        body = CommentedMap()
        body["type"] = self.type
        body["recipient" if self.type == "age" else "fingerprint"] = self.public
        if self.public_key:
            body["public_key"] = self.public_key
        if self.owner:
            body["owner"] = self.owner
        body["clusters"] = flow_list(self.clusters)
        if self.created:
            body["created"] = self.created
        if self.expires:
            body["expires"] = self.expires
        body["status"] = "active"
        return body


def plan_add(path: Path, new: NewKey) -> PlannedEdit:
    def mutate(data: Any) -> None:
        keys = _keys(data)
        if new.name in keys:
            raise UsageError(f"the registry already has a key {new.name!r}", path=path)
        keys[new.name] = new.mapping()

    return plan(path, mutate)


def plan_status(path: Path, name: str, status: str) -> PlannedEdit:
    def mutate(data: Any) -> None:
        body = _keys(data).get(name)
        if not isinstance(body, CommentedMap):
            raise UsageError(f"the registry has no key {name!r}", path=path)
        body["status"] = status

    return plan(path, mutate)


def plan_remove(path: Path, name: str) -> PlannedEdit:
    def mutate(data: Any) -> None:
        keys = _keys(data)
        if name not in keys:
            raise UsageError(f"the registry has no key {name!r}", path=path)
        del keys[name]

    return plan(path, mutate)
