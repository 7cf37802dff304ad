"""The access matrix: every sops file (rows) against every key (columns, grouped by cluster).

Key-less: who reads a file is its metadata's recipients (sops-format.md 1.6, outside the
MAC: what the file claims); who should is the registry rule for its path (or, without a
registry, the first `.sops.yaml` creation rule that matches it, as sops would choose).
Recipients the registry does not know are columns of their own, named by themselves.
With `rev`, the files are read from that commit (git objects, no checkout); the expected
readers are always today's registry or `.sops.yaml`.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sopskit.errors import ConfigError, InputError, UsageError
from sopskit.history import reader
from sopskit.recipient import Recipient
from sopskit.registry.model import ALL_CLUSTERS, Registry
from sopskit.registry.resolve import resolve_or_none, today_utc
from sopskit.sops.config import find_config, rule_for
from sopskit.sopsfile.document import detect_format, looks_like_sops, parse

MAX_SIZE = 8 * 1024 * 1024
PROBLEM_STATUSES = frozenset({"retired", "revoked", "expired"})


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    recipient: str  # `age:age1...` / `pgp:FINGERPRINT`
    clusters: tuple[str, ...]
    status: str  # active, retired, revoked, expired; unregistered (the registry lacks it)


@dataclass(frozen=True)
class Row:
    path: str
    recipients: tuple[str, ...]  # column names
    expected: tuple[str, ...] | None  # None: no rule says who should read it
    missing: tuple[str, ...] = ()
    unauthorised: tuple[str, ...] = ()

    @property
    def directory(self) -> str:
        return self.path.rpartition("/")[0] or "."


@dataclass
class Matrix:
    rev: str | None  # the commit read, None for the working tree
    source: str  # "registry", ".sops.yaml" or "none": where `expected` comes from
    keys: list[Column] = field(default_factory=list)
    files: list[Row] = field(default_factory=list)

    def column(self, name: str) -> Column:
        return next(c for c in self.keys if c.name == name)

    def problems(self, row: Row) -> int:
        """Missing, unauthorised and retired/revoked/expired readers of one file."""
        stale = [n for n in row.recipients if n not in row.unauthorised
                 and self.column(n).status in PROBLEM_STATUSES]
        return len(row.missing) + len(row.unauthorised) + len(stale)

    def clusters(self) -> list[str]:
        """Cluster names in column order (`(none)` for keys that serve none we know)."""
        out: list[str] = []
        for c in self.keys:
            for name in c.clusters or ("(none)",):
                if name not in out:
                    out.append(name)
        return out

    def as_dict(self) -> dict[str, object]:
        """The JSON contract of issue 12."""
        return {"version": 1, "rev": self.rev,
                "keys": [{"name": c.name, "type": c.type, "recipient": c.recipient,
                          "clusters": list(c.clusters), "status": c.status}
                         for c in self.keys],
                "files": [{"path": r.path, "recipients": list(r.recipients),
                           "expected": list(r.expected) if r.expected is not None else None,
                           "missing": list(r.missing), "unauthorised": list(r.unauthorised)}
                          for r in self.files]}


class _Names:
    """Recipient -> column, registry keys first, every other recipient as itself."""

    def __init__(self, registry: Registry | None) -> None:
        self.registry = registry
        self.columns: dict[str, Column] = {}
        today = today_utc()
        if registry is not None:
            every = tuple(registry.clusters)
            for key in sorted(registry.keys.values(), key=lambda k: k.name):
                clusters = every if ALL_CLUSTERS in key.clusters else key.clusters
                self.columns[key.name] = Column(key.name, key.type, str(key.recipient),
                                                tuple(clusters), key.effective_status(today))

    def name(self, recipient: Recipient) -> str:
        key = self.registry.key_by_recipient(recipient) if self.registry else None
        if key is not None:
            return key.name
        name = str(recipient)
        if name not in self.columns:
            self.columns[name] = Column(name, recipient.type, name, (), "unregistered")
        return name


def build(repo: Path, paths: Iterable[str] = (), *, registry: Registry | None = None,
          rev: str | None = None) -> Matrix:
    """The matrix of the sops files under `paths` (repository-relative; default all)."""
    names = _Names(registry)
    config = None if registry is not None else find_config(repo)
    commit = reader.resolve(repo, rev) if rev else None
    matrix = Matrix(commit, "registry" if registry else ".sops.yaml" if config else "none")
    for path, recipients in _files(repo, list(paths), commit):
        have = tuple(sorted({names.name(r) for r in recipients}))
        expected = _expected(repo, path, registry, config, names)
        if expected is None:
            matrix.files.append(Row(path, have, None))
            continue
        matrix.files.append(Row(path, have, expected,
                                tuple(n for n in expected if n not in have),
                                tuple(n for n in have if n not in expected)))
    matrix.keys = _ordered(names.columns.values())
    matrix.files.sort(key=lambda r: (r.directory, r.path))
    return matrix


def _ordered(columns: Iterable[Column]) -> list[Column]:
    """Grouped by (first) cluster, registry keys before strangers, then by name."""
    return sorted(columns, key=lambda c: (c.status == "unregistered",
                                          c.clusters[:1] or ("~",), c.name))


def _expected(repo: Path, path: str, registry: Registry | None, config: Path | None,
              names: _Names) -> tuple[str, ...] | None:
    if registry is not None:
        res = resolve_or_none(registry, path)
        return tuple(sorted(k.name for k in res.keys)) if res is not None else None
    if config is None:
        return None
    try:
        rule = rule_for(config, repo / path)
    except ConfigError:
        return None
    return tuple(sorted({names.name(r) for r in rule.recipients}))


def scope(repo: Path, path: Path, *, rev: str | None = None) -> str:
    """A PATH argument as a repository-relative prefix; UsageError when it lies outside the
    repository or (for the working tree) does not exist: a typo must not read as an empty,
    clean matrix."""
    absolute = Path(os.path.abspath(path))
    # the repository or the path may be named through a symlink (cwd, --repo)
    roots = (Path(os.path.abspath(repo)), Path(os.path.realpath(repo)))
    forms = (absolute, Path(os.path.realpath(absolute.parent)) / absolute.name,
             Path(os.path.realpath(absolute)))
    inside = [form.relative_to(root).as_posix()
              for form, root in itertools.product(forms, roots)
              if form == root or root in form.parents]
    if not inside:
        raise UsageError(f"{path}: not inside the repository {repo}")
    if rev is None and not os.path.lexists(absolute):
        raise UsageError(f"{path}: no such file or directory")
    return inside[0]


def _wanted(path: str, prefixes: list[str]) -> bool:
    return not prefixes or any(p in (".", "") or path == p or path.startswith(p.rstrip("/")
                                                                               + "/")
                               for p in prefixes)


def _files(repo: Path, prefixes: list[str],
           commit: str | None) -> Iterator[tuple[str, frozenset[Recipient]]]:
    """(path, recipients) of every sops file in scope, found by content."""
    if commit is not None:
        listing = {p: b for p, b in reader.tree(repo, commit).items() if _wanted(p, prefixes)}
        data = reader.read(repo, listing.values(), max_size=MAX_SIZE)
        items: Iterable[tuple[str, bytes | None]] = (
            (p, data.get(b)) for p, b in sorted(listing.items()))
    else:
        listed = reader.worktree_files(repo) or _walk(repo)
        items = ((p, _read(repo / p)) for p in listed if _wanted(p, prefixes))
    for path, content in items:
        if content is None or not looks_like_sops(content, detect_format(path)):
            continue
        try:
            doc = parse(content, path=path, fmt=detect_format(path))
        except InputError:
            continue
        yield path, doc.metadata.recipients


def _read(path: Path) -> bytes | None:
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_SIZE:
            return None
        return path.read_bytes()
    except OSError:
        return None


# One cell's state, most serious first: what the renderers draw and the legend explains.
CELL_STATES: tuple[tuple[str, str, str], ...] = (
    # (state, text symbol, meaning)
    ("revoked", "V", "reads, but the key is revoked: rotate the data key and the values"),
    ("missing", "M", "should read (the rule names it) but does not: that cluster cannot decrypt"),
    ("unauthorised", "U", "reads, but no rule names it"),
    ("retired", "R", "reads, but the key is retired or expired"),
    ("reads", "#", "reads, as the rule says"),
    ("unruled", "o", "reads; no rule says who should (no registry or .sops.yaml rule)"),
    ("none", ".", "neither reads nor should"),
)


def cell(matrix: Matrix, row: Row, column: Column) -> str:
    """The state of `column` for `row` (one of CELL_STATES)."""
    reads = column.name in row.recipients
    if column.name in row.missing:
        return "missing"
    if not reads:
        return "none"
    if column.status == "revoked":
        return "revoked"
    if column.status in ("retired", "expired"):
        return "retired"
    if row.expected is None:
        return "unruled"
    return "unauthorised" if column.name in row.unauthorised else "reads"


def _walk(repo: Path) -> list[str]:
    """Every file under `repo` when git lists none (not a repository): hidden directories
    (.git and the like) left out."""
    out = []
    for root, dirs, names in os.walk(repo):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        base = Path(root).relative_to(repo)
        out += [(base / n).as_posix() for n in sorted(names)]
    return out
