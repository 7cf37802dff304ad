"""Parse any sops file (YAML, JSON, dotenv, INI, binary) into one ordered tree + Metadata.

`parse` never needs a key. It mirrors each sops store's reader (stores/*/store.go) closely
enough that the walk order, AAD paths and plaintext typing equal what sops computes the MAC
over; `SopsDocument.leaves()` is that walk (sops.go: walkBranch / walkSlice).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sopskit.errors import InputError
from sopskit.sopsfile import dotenvstore, inistore, jsonstore, metadata, yamlstore
from sopskit.sopsfile.cryptrule import Evaluator
from sopskit.sopsfile.metadata import Issue
from sopskit.sopsfile.model import FORMATS, Format, Metadata
from sopskit.sopsfile.tree import Branch, Comment, GoTime, Item, Scalar, ScalarValue, Seq

DEFAULT_MAX_SIZE = 64 * 1024 * 1024
_EXTENSIONS: dict[str, Format] = {
    ".yaml": "yaml", ".yml": "yaml", ".json": "json", ".env": "dotenv", ".ini": "ini",
}
SOPS_KEY = "sops"


class NotSopsFile(InputError):
    """The file parses but has no sops metadata: it is not (or no longer) encrypted."""


@dataclass(frozen=True, slots=True)
class Leaf:
    """One walked value or comment, in sops walk order.

    `path`: the mapping keys from the root (list indices excluded, as in sops' AAD);
    `value`: the stored value (for encrypted leaves the `ENC[...]` string) or comment text;
    `encrypted`: whether the file's crypt rule puts this leaf at an encrypted path.
    """

    path: tuple[str, ...]
    value: ScalarValue
    line: int | None
    is_comment: bool
    encrypted: bool
    document: int = 0

    @property
    def key_path(self) -> str:
        return ".".join(self.path) if self.path else "(top level)"


@dataclass
class SopsDocument:
    """A parsed sops file: its documents (branches), metadata and metadata issues."""

    path: str
    format: Format
    metadata: Metadata
    branches: list[Branch]
    metadata_issues: tuple[Issue, ...] = ()
    metadata_line: int | None = None
    _leaves: list[tuple[Leaf, Scalar | Comment]] | None = field(default=None, repr=False)

    def leaves(self) -> Iterator[Leaf]:
        """Every non-null leaf and comment in sops walk order."""
        for leaf, _ in self.walk():
            yield leaf

    def walk(self) -> list[tuple[Leaf, Scalar | Comment]]:
        """Leaves with the tree objects holding them (decrypt replaces values in a copy)."""
        if self._leaves is None:
            self._leaves = _Walker(Evaluator(self.metadata.effective_crypt_rule)).run(
                self.branches)
        return self._leaves


class _Walker:
    def __init__(self, rule: Evaluator) -> None:
        self.rule = rule
        self.out: list[tuple[Leaf, Scalar | Comment]] = []
        self.doc = 0

    def run(self, branches: list[Branch]) -> list[tuple[Leaf, Scalar | Comment]]:
        for self.doc, branch in enumerate(branches):
            self.branch(branch, (), [])
        return self.out

    def encrypted(self, path: tuple[str, ...], stack: list[list[str]], is_comment: bool) -> bool:
        if self.rule.uses_comments:
            return self.rule.with_comments(stack, is_comment)
        return self.rule.by_path(path)

    def comment(self, c: Comment, path: tuple[str, ...], stack: list[list[str]]) -> None:
        stack[-1].append(c.text)
        enc = self.encrypted(path, stack, True)
        self.out.append((Leaf(path, c.text, c.line, True, enc, self.doc), c))

    def branch(self, node: Branch, path: tuple[str, ...], stack: list[list[str]]) -> None:
        stack = [*stack, []]
        for item in node:
            if isinstance(item, Comment):
                self.comment(item, path, stack)
                continue
            self.value(item.value, (*path, item.key), stack)
            stack[-1] = []

    def seq(self, node: Seq, path: tuple[str, ...], stack: list[list[str]]) -> None:
        stack = [*stack, []]
        for item in node:
            if isinstance(item, Comment):
                self.comment(item, path, stack)
                continue
            self.value(item, path, stack)
            stack[-1] = []

    def value(self, node: Branch | Seq | Scalar, path: tuple[str, ...],
              stack: list[list[str]]) -> None:
        if isinstance(node, Branch):
            self.branch(node, path, stack)
        elif isinstance(node, Seq):
            self.seq(node, path, stack)
        elif node.value is not None:
            enc = self.encrypted(path, stack, False)
            self.out.append((Leaf(path, node.value, node.line, False, enc, self.doc), node))


def detect_format(path: str | Path, override: str | None = None) -> Format:
    """sops' rule (cmd/sops/formats): the override if it names a store, else the extension."""
    if override in FORMATS:
        return override
    # case-sensitive like cmd/sops/formats: sops 3.11 treats `a.YAML` as binary
    return _EXTENSIONS.get(os.path.splitext(str(path))[1], "binary")


# A whole sops ciphertext (sops-format.md 2.1).
_CIPHERTEXT = re.compile(rb"ENC\[AES256_GCM,data:[A-Za-z0-9+/=]*,iv:[A-Za-z0-9+/=]+,"
                         rb"tag:[A-Za-z0-9+/=]+,type:[a-z]+\]")


def orphan_ciphertext_line(data: bytes, fmt: Format) -> int | None:
    """The line of the first sops ciphertext in a YAML, JSON, dotenv or INI file that has no
    sops metadata (the caller checked `looks_like_sops` first): a sops file that lost it, cut
    off or deleted by hand. Nobody can decrypt it, and Flux would apply the `ENC[...]`
    strings as the values. Other formats (source code, docs quoting a value) never count."""
    if fmt == "binary":
        return None
    found = _CIPHERTEXT.search(data)
    return None if found is None else data.count(b"\n", 0, found.start()) + 1


def looks_like_sops(data: bytes, fmt: Format) -> bool:
    """Content test for finding sops files: does `data` have top-level sops metadata in
    store `fmt` (what sops' LoadEncryptedFile looks for), without a full parse?

    The MAC is not required: a file whose `mac` was removed is still a sops file (one that
    sops refuses without --ignore-mac) and must be found, and failed, by a directory scan.
    The metadata must be top-level: a Go source or a README that mentions `"sops"` and
    `"mac"` is not a sops file.
    """
    if fmt == "dotenv":
        return _DOTENV_META.search(data) is not None
    if fmt == "ini":
        return _INI_META.search(data) is not None
    if fmt in ("json", "binary"):
        if b'"sops"' not in data or not (b'"mac"' in data or b'"lastmodified"' in data):
            return False
        return _json_has_top_sops(data)
    if not (b"mac:" in data or b"lastmodified:" in data):
        return False
    return _yaml_meta(data)


def _yaml_meta(data: bytes) -> bool:
    """`_YAML_META` tried only where a line starts with `sops:` (`re` tries a multi-line
    `^` at every position of a file: a history holds thousands of sops versions)."""
    if data.startswith(b"sops:") and _YAML_META.match(data, 0):
        return True
    at = data.find(b"\nsops:")
    while at != -1:
        if _YAML_META.match(data, at + 1):
            return True
        at = data.find(b"\nsops:", at + 1)
    return False


# `sops:` at the start of a line (a top-level key) holding a block or flow mapping.
_YAML_META = re.compile(rb"(?m)^sops:[ \t]*(?:\{|(?:#[^\n]*)?\r?\n(?:[ \t]*\r?\n)*[ \t]+[^\s#])")
_DOTENV_META = re.compile(rb"(?m)^sops_(?:version|mac|lastmodified)=")
_INI_META = re.compile(rb"(?m)^[ \t]*\[sops\][ \t]*\r?$")
_JSON_META = re.compile(rb'"sops"[ \t\r\n]*:[ \t\r\n]*\{')


def _json_has_top_sops(data: bytes) -> bool:
    """A JSON object with a `sops` object at the top. A damaged one (truncated, invalid)
    still counts when it is an object whose text holds a `"sops": {` mapping, so that a
    scan reports it instead of skipping it."""
    try:
        obj = json.loads(data)
    except (ValueError, RecursionError):
        return data.lstrip()[:1] == b"{" and _JSON_META.search(data) is not None
    return isinstance(obj, dict) and isinstance(obj.get(SOPS_KEY), dict)


def parse(data: bytes, *, path: str, fmt: Format,
          max_size: int = DEFAULT_MAX_SIZE) -> SopsDocument:
    """Parse `data` (the bytes of `path`) as a sops file in format `fmt`."""
    try:
        return _parse(_text(data, path, max_size), path, fmt)
    except RecursionError:
        raise InputError("nested too deeply to be a sops file", path=path) from None


def _parse(text: str, path: str, fmt: Format) -> SopsDocument:
    if fmt == "yaml":
        branches = yamlstore.load(text, path=path)
        raw, line = _pop_yaml_metadata(branches, path)
    elif fmt in ("json", "binary"):
        branches = [jsonstore.load(text, path=path)]
        raw, line = _pop_tree_metadata(branches[0], path)
    elif fmt == "dotenv":
        branches = [dotenvstore.load(text, path=path)]
        raw, line = _pop_dotenv_metadata(branches[0], path)
    else:
        branches, raw, line = _ini(text, path)
    meta, issues = metadata.build(raw)
    if fmt == "binary":
        meta = _binary_meta(meta)
    doc = SopsDocument(path, fmt, meta, branches, issues, line)
    doc.walk()  # walk once now: recursion limits surface here, as an InputError
    return doc


def _text(data: bytes, path: str, max_size: int) -> str:
    if len(data) > max_size:
        raise InputError(f"file is {len(data) / 1048576:.1f} MiB, larger than the "
                         f"{max_size / 1048576:.0f} MiB limit for sops files", path=path)
    if not data.strip():
        raise InputError("file is empty", path=path)
    if b"\x00" in data:
        raise InputError("file is binary data, not a sops file", path=path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError("file is not valid UTF-8 text", path=path, line=line) from None


def _binary_meta(meta: Metadata) -> Metadata:
    """Binary store: the single `data` value is always encrypted (getEncryptConfig)."""
    return replace(meta, crypt_rule=None)


def _missing(path: str) -> NotSopsFile:
    return NotSopsFile("no sops metadata found: the file is not encrypted with sops", path=path)


def _pop_yaml_metadata(branches: list[Branch], path: str) -> tuple[dict[str, Any], int | None]:
    """stores.ExtractMetadata: `sops` from document 0, removed from every document."""
    if not branches:
        raise _missing(path)
    for item in branches[0]:
        if isinstance(item, Item) and item.key == SOPS_KEY:
            _unique_keys(item.value, path)
    raw, line = _pop_tree_metadata(branches[0], path)
    for branch in branches[1:]:
        branch[:] = [i for i in branch if not (isinstance(i, Item) and i.key == SOPS_KEY)]
    return raw, line


def _unique_keys(node: Branch | Seq | Scalar, path: str) -> None:
    """sops decodes YAML metadata into a struct: yaml.v3 fails on a duplicate key there."""
    if isinstance(node, Branch):
        seen: set[str] = set()
        for item in node:
            if not isinstance(item, Item):
                continue
            if item.key in seen:
                raise InputError(f"duplicate key {item.key!r} in the sops metadata",
                                 path=path, line=item.line)
            seen.add(item.key)
            _unique_keys(item.value, path)
    elif isinstance(node, Seq):
        for value in node:
            if not isinstance(value, Comment):
                _unique_keys(value, path)


def _pop_tree_metadata(branch: Branch, path: str) -> tuple[dict[str, Any], int | None]:
    found = [i for i in branch if isinstance(i, Item) and i.key == SOPS_KEY]
    if not found:
        raise _missing(path)
    if len(found) > 1:
        raise InputError("duplicate 'sops' metadata entry", path=path, line=found[1].line)
    if not isinstance(found[0].value, Branch):
        raise InputError("the 'sops' entry is not a mapping", path=path, line=found[0].line)
    branch[:] = [i for i in branch if i is not found[0]]
    return to_python(found[0].value), found[0].line


def _pop_dotenv_metadata(branch: Branch, path: str) -> tuple[dict[str, Any], int | None]:
    prefix = SOPS_KEY + "_"
    flat = {i.key[len(prefix):]: i.value.value for i in branch
            if isinstance(i, Item) and i.key.startswith(prefix) and isinstance(i.value, Scalar)}
    if not flat:
        raise _missing(path)
    lines = [i.line for i in branch if isinstance(i, Item) and i.key.startswith(prefix)]
    branch[:] = [i for i in branch if not (isinstance(i, Item) and i.key.startswith(prefix))]
    return metadata.unflatten({k: str(v) for k, v in flat.items()}), min(
        (ln for ln in lines if ln), default=None)


def _ini(text: str, path: str) -> tuple[list[Branch], dict[str, Any], int | None]:
    sections = inistore.parse_sections(text, path=path)
    meta = [s for s in sections if s.name == SOPS_KEY]
    if not meta:
        raise _missing(path)
    # DecodeNewLines: newlines were written as a literal backslash-n (EscapeNewlines).
    flat = {k: v.replace("\\n", "\n") for k, (v, _, _) in meta[0].keys.items()}
    branch = inistore.to_branch([s for s in sections if s.name != SOPS_KEY])
    return [branch], metadata.unflatten(flat), meta[0].line


def to_python(node: Branch | Seq | Scalar) -> Any:
    """Plain dict/list/scalars (comments dropped), e.g. for the metadata block."""
    if isinstance(node, Branch):
        return {i.key: to_python(i.value) for i in node if isinstance(i, Item)}
    if isinstance(node, Seq):
        return [to_python(v) for v in node if not isinstance(v, Comment)]
    return node.value


__all__ = ["DEFAULT_MAX_SIZE", "GoTime", "Leaf", "NotSopsFile", "SopsDocument", "detect_format",
           "looks_like_sops", "parse", "to_python"]
