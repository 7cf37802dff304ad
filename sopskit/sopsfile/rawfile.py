"""A sops file as one tree, metadata included, re-emitted in its own store's layout.

`document.parse` pops the `sops` block into a Metadata model; a ciphertext-level edit
(set, unset, a merge) needs the opposite: keep every stored byte, change a few values and
`lastmodified`/`mac`, and write the file back as sops would. The store emitters reproduce
sops' output byte for byte for files sops wrote (YAML, JSON, INI; dotenv below), so
untouched lines stay untouched and a git diff shows only what changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sopskit.errors import InputError
from sopskit.sopsfile import (
    dotenvstore,
    emit_ini,
    emit_json,
    emit_yaml,
    inistore,
    jsonstore,
    yamlstore,
)
from sopskit.sopsfile.document import SOPS_KEY, SopsDocument, parse
from sopskit.sopsfile.gorender import to_text
from sopskit.sopsfile.model import Format
from sopskit.sopsfile.tree import Branch, Comment, Item, Scalar

_DOTENV_PREFIX = SOPS_KEY + "_"


@dataclass
class RawFile:
    """The stored tree of a sops file: per document, its data entries (edit these) and its
    metadata entries (the `sops` item; dotenv: the `sops_*` lines), all as written.

    Metadata is emitted after the data, where sops writes it."""

    path: str
    format: Format
    data: list[Branch]
    meta: list[list[Item]]

    def set_metadata(self, field: str, value: str) -> None:
        """Replace one top-level metadata string (lastmodified, mac) in every document."""
        found = False
        for items in self.meta:
            for item in items:
                if self.format == "dotenv" and item.key == _DOTENV_PREFIX + field:
                    item.value, found = Scalar(value, item.line), True
                elif item.key == SOPS_KEY and isinstance(item.value, Branch):
                    found = _set_in(item.value, field, value) or found
        if not found:
            raise InputError(f"metadata has no '{field}' entry", path=self.path)

    def branches(self) -> list[Branch]:
        return [Branch([*data, *meta]) for data, meta in zip(self.data, self.meta, strict=True)]

    def emit(self) -> bytes:
        branches = self.branches()
        if self.format == "yaml":
            return emit_yaml.emit(branches)
        if self.format in ("json", "binary"):
            return emit_json.emit(branches[0])
        if self.format == "ini":
            return emit_ini.emit(branches[0], path=self.path)
        return _emit_dotenv(branches[0])

    def document(self) -> SopsDocument:
        """The parsed document of what `emit` writes (fresh objects, walk computed)."""
        return parse(self.emit(), path=self.path, fmt=self.format)


def _split(path: str, fmt: Format, branches: list[Branch]) -> RawFile:
    data = [Branch(i for i in b if not _is_meta(i, fmt)) for b in branches]
    meta = [[i for i in b if isinstance(i, Item) and _is_meta(i, fmt)] for b in branches]
    return RawFile(path, fmt, data, meta)


def _is_meta(item: Item | Comment, fmt: Format) -> bool:
    if not isinstance(item, Item):
        return False
    if fmt == "dotenv":
        return item.key.startswith(_DOTENV_PREFIX)
    return item.key == SOPS_KEY


def _set_in(meta: Branch, field: str, value: str) -> bool:
    for item in meta:
        if isinstance(item, Item) and item.key == field:
            item.value = Scalar(value, item.line)
            return True
    return False


def _emit_dotenv(branch: Branch) -> bytes:
    """stores/dotenv/store.go: EmitEncryptedFile (newlines in values escaped as `\\n`)."""
    lines = []
    for item in branch:
        if isinstance(item, Comment):
            lines.append(f"#{item.text}\n")
            continue
        assert isinstance(item.value, Scalar)  # dotenvstore.load makes only scalars
        value = item.value.value
        text = value if isinstance(value, str) else to_text(value)
        lines.append(f"{item.key}={text.replace(chr(10), chr(92) + 'n')}\n")
    return "".join(lines).encode("utf-8", "surrogateescape")


def load(data: bytes, *, path: str, fmt: Format) -> RawFile:
    """The stored tree of `data`; call after `document.parse` accepted the same bytes."""
    text = data.decode("utf-8")
    if fmt == "yaml":
        branches = yamlstore.load(text, path=path)
    elif fmt in ("json", "binary"):
        branches = [jsonstore.load(text, path=path)]
    elif fmt == "ini":
        branches = [inistore.to_branch(inistore.parse_sections(text, path=path))]
    else:
        branches = [dotenvstore.load(text, path=path)]
    return _split(path, fmt, branches)
