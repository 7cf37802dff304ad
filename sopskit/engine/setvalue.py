"""`sopskit set` / `unset`: change one value of a sops file at the ciphertext level.

Like `sops set`/`unset` (sops-format.md 3.7: first document only, same data key, the
file's own crypt rule, so a new key that the rule does not cover stays plaintext), but
natively and with a smaller diff: only the value at the path gets a new ciphertext; every
other value, comment and the data key stay byte for byte, and `lastmodified` and the MAC
are renewed. Before the result replaces the file it is verified: recipients and data key
unchanged, MAC and every value verify, it decrypts to exactly the old plaintext with the
one change, and no other stored value changed.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sopskit.engine import paths, write_check
from sopskit.errors import UsageError, VerificationError
from sopskit.fsio import replace_verified
from sopskit.identity.model import Identities
from sopskit.sopsfile import rawfile, reseal
from sopskit.sopsfile.cryptrule import Evaluator
from sopskit.sopsfile.decrypt import emit_plain, plain_tree
from sopskit.sopsfile.document import SOPS_KEY, SopsDocument, detect_format, parse
from sopskit.sopsfile.model import Format
from sopskit.sopsfile.splice import splice
from sopskit.sopsfile.tree import Branch, Item, Node, Scalar, ScalarValue, Seq
from sopskit.sopsfile.treepath import (
    MissingPath,
    TreePath,
    format_path,
    lookup,
    set_node,
    unset_node,
)

# A value to set: a scalar, or (from JSON) a nested mapping / list of them.
Value = ScalarValue | dict[str, "Value"] | list["Value"]


@dataclass(frozen=True)
class Outcome:
    path: str  # repository-relative file
    changed: bool
    encrypted: bool  # False: the file's crypt rule keeps this path in plaintext


def set_value(source: Path, tree_path: TreePath, value: Value, *, repo: Path,
              identities: Identities, input_type: Format | None = None) -> Outcome:
    """Set `tree_path` to `value` in `source`; no write when it already holds `value`."""
    job = _Job.open(source, tree_path, repo, identities, input_type)
    with _naming(job.shown):
        return _set(job, tree_path, value)


def _set(job: _Job, tree_path: TreePath, value: Value) -> Outcome:
    _check_shape(job.fmt, tree_path, value, job.shown)
    try:
        if _same(lookup(job.plain[0], tree_path), value):
            return Outcome(job.shown, False, job.encrypts(tree_path))
    except MissingPath:
        pass
    set_node(job.plain[0], tree_path, to_node(value, []))
    fresh: list[Scalar] = []
    set_node(job.raw.data[0], tree_path, to_node(value, fresh))
    job.write(fresh)
    return Outcome(job.shown, True, job.encrypts(tree_path))


def unset_value(source: Path, tree_path: TreePath, *, repo: Path, identities: Identities,
                input_type: Format | None = None, idempotent: bool = False) -> Outcome:
    """Remove `tree_path` from `source` (MissingPath unless `idempotent`)."""
    job = _Job.open(source, tree_path, repo, identities, input_type)
    with _naming(job.shown):
        try:
            unset_node(job.plain[0], tree_path)
        except MissingPath:
            if idempotent:
                return Outcome(job.shown, False, job.encrypts(tree_path))
            raise
    unset_node(job.raw.data[0], tree_path)
    job.write([])
    return Outcome(job.shown, True, job.encrypts(tree_path))


@contextlib.contextmanager
def _naming(shown: str) -> Iterator[None]:
    """Tree path errors (raised without a file) name the file."""
    try:
        yield
    except UsageError as exc:
        if exc.path is None:
            exc.path = shown
        raise


def to_node(value: Value, fresh: list[Scalar]) -> Node:
    """A tree for `value`, collecting its scalars in `fresh` (they are to be encrypted)."""
    if isinstance(value, dict):
        return Branch(Item(k, to_node(v, fresh)) for k, v in value.items())
    if isinstance(value, list):
        return Seq(to_node(v, fresh) for v in value)
    leaf = Scalar(value)
    fresh.append(leaf)
    return leaf


def _same(node: Node, value: Value) -> bool:
    if isinstance(node, Scalar) and not isinstance(value, (dict, list)):
        return type(node.value) is type(value) and node.value == value
    return False


def _check_shape(fmt: Format, tree_path: TreePath, value: Value, shown: str) -> None:
    """What the store can hold (stores/dotenv, stores/ini: flat string values)."""
    flat = {"dotenv": 1, "ini": 2, "binary": 1}.get(fmt)
    if flat is None:
        return
    if len(tree_path) != flat or not isinstance(value, str):
        where = {"dotenv": '["KEY"]', "ini": '["section"]["key"]', "binary": '["data"]'}[fmt]
        raise UsageError(f"a {fmt} file holds string values at {where} only", path=shown)
    key = str(tree_path[-1])
    # stores/dotenv splits a line at its first `=` and skips `#` lines; an INI key ends at
    # `=`: such a key would come back as another key (caught later, but as a MAC error)
    if fmt in ("dotenv", "ini") and ("=" in key or "\n" in key or not key.strip()
                                     or (fmt == "dotenv" and key.startswith("#"))):
        raise UsageError(f"{key!r} cannot be a {fmt} key (empty, `=`, a newline"
                         f"{', or a leading `#`' if fmt == 'dotenv' else ''})", path=shown)


@dataclass
class _Job:
    """One verified file opened for a ciphertext-level edit."""

    source: Path
    shown: str
    fmt: Format
    before: write_check.Checked
    key: bytes
    raw: rawfile.RawFile
    plain: list[Branch]
    target: TreePath
    identities: Identities
    original: bytes
    own_layout: bool  # the file is not laid out as sops 3.11 writes it (older sops, by hand)

    @classmethod
    def open(cls, source: Path, tree_path: TreePath, repo: Path, identities: Identities,
             input_type: Format | None) -> _Job:
        shown = paths.display(repo, source)
        data = paths.read_input(source, shown=shown)
        fmt = detect_format(str(source), input_type)
        before = write_check.check_bytes(data, path=shown, fmt=fmt, identities=identities,
                                   expect=write_check.Expect(require_key=True))
        assert before.data_key is not None
        first = tree_path[0]
        if first == SOPS_KEY or (fmt == "dotenv" and str(first).startswith(SOPS_KEY + "_")):
            raise UsageError(f"{format_path(tree_path)}: the sops metadata cannot be edited "
                             "this way", path=shown)
        if not isinstance(first, str):
            raise UsageError(f"{format_path(tree_path)}: a path starts with a key",
                             path=shown)
        raw = rawfile.load(data, path=shown, fmt=fmt)
        return cls(source, shown, fmt, before, before.data_key, raw,
                   plain_tree(before.document, before.data_key), tree_path, identities, data,
                   raw.emit() != data)

    def encrypts(self, tree_path: TreePath) -> bool:
        keys = tuple(c for c in tree_path if isinstance(c, str))
        rule = self.before.document.metadata.effective_crypt_rule
        return self.fmt == "binary" or Evaluator(rule).by_path(keys)

    def write(self, fresh: list[Scalar]) -> None:
        meta = self.before.document.metadata
        new = reseal.seal(self.raw, meta, self.key, fresh)
        if self.own_layout:
            new = splice(self.original, self.before.document,
                         parse(new, path=self.shown, fmt=self.fmt), self.fmt) or new
        expect = write_check.Expect(recipients=meta.recipients, key_same_as=self.key,
                              crypt=(meta.crypt_rule, meta.mac_only_encrypted),
                              plaintext=emit_plain(self.fmt, self.plain, path=self.shown),
                              require_key=True)

        def verify(temp: Path) -> None:
            done = write_check.check_path(temp, path=self.shown, fmt=self.fmt,
                                    identities=self.identities, expect=expect)
            _only_target_changed(self.before.document, done.document, self.target, self.shown)

        replace_verified(self.source, new, verify)


def _only_target_changed(before: SopsDocument, after: SopsDocument, target: TreePath,
                         shown: str) -> None:
    """Every stored value outside the edited path is byte-identical (the minimal diff)."""
    keys = tuple(c for c in target if isinstance(c, str))

    def outside(doc: SopsDocument) -> Counter[tuple[tuple[str, ...], object]]:
        return Counter((leaf.path, leaf.value) for leaf in doc.leaves()
                       if leaf.document != 0 or leaf.path[:len(keys)] != keys)

    if outside(before) != outside(after):
        raise VerificationError(f"values outside {format_path(target)} changed; nothing "
                                "was replaced", check="roundtrip", path=shown)


