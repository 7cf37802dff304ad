"""Every file version that any commit of any branch or tag wrote, with renames, from the one
bulk reader (`gitio.log_changes`, all refs) and blob reads by id (no checkout).

A commit's raw diff is against its first parent (a root commit against the empty tree), a
merge's too, so every blob a branch or tag ever held is written by some commit, a resolved
merge conflict (or any content made in a merge) included.
Renames (`R` records, git's similarity detection) join paths into one lineage, so a file
keeps its history when it is moved; a path renamed away and later added again holds another
file, which starts a lineage of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sopskit import gitio
from sopskit.errors import InputError

ZERO = gitio.ZERO


@dataclass(frozen=True)
class Version:
    """One blob a commit wrote at a path (`blob` ZERO: the commit deleted the path)."""

    commit: str
    time: int  # committer time, seconds since the epoch
    path: str
    blob: str
    renamed_from: str | None = None
    line: str = ""  # the lineage member this version belongs to ("": the path itself)

    @property
    def member(self) -> str:
        return self.line or self.path


@dataclass
class History:
    """Every version written in the walked commits, oldest first, and the lineages."""

    versions: list[Version] = field(default_factory=list)
    commits: int = 0
    notes: list[str] = field(default_factory=list)
    _parent: dict[str, str] = field(default_factory=dict)
    _alias: dict[str, str] = field(default_factory=dict)  # path -> its current member
    _vacated: set[str] = field(default_factory=set)  # paths renamed away, not used since

    def member(self, path: str, *, fresh: bool = False) -> str:
        """The lineage member `path` stands for now; `fresh` (a file written at a path
        that was renamed away) starts a new one."""
        if fresh and path in self._vacated:
            self._alias[path] = f"{path}\0{len(self._parent) + len(self._alias)}"
        self._vacated.discard(path)
        return self.current(path)

    def current(self, path: str) -> str:
        """The lineage member `path` stands for at the end of the walk."""
        return self._alias.get(path, path)

    def join(self, old: str, new: str) -> None:
        a, b = self.lineage(old), self.lineage(new)
        if a != b:
            self._parent[a] = b

    def lineage(self, path: str) -> str:
        """A stable name for the set of paths a file had (any member of the set)."""
        root = path
        while root in self._parent:
            root = self._parent[root]
        while path != root:  # path compression
            nxt = self._parent[path]
            self._parent[path] = root
            path = nxt
        return root

    def paths_of(self) -> dict[str, list[str]]:
        """lineage -> its paths in the order they first appear."""
        out: dict[str, list[str]] = {}
        for v in self.versions:
            paths = out.setdefault(self.lineage(v.member), [])
            if v.path not in paths:
                paths.append(v.path)
        return out

    def blobs(self) -> dict[str, Version]:
        """blob id -> the oldest version that wrote it (the commit that introduced it)."""
        out: dict[str, Version] = {}
        for v in self.versions:
            if v.blob != ZERO and v.blob not in out:
                out[v.blob] = v
        return out


def resolve(repo: Path, rev: str) -> str:
    """The commit `rev` names; InputError naming it when git does not know it."""
    try:
        return gitio.git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options",
                         f"{rev}^{{commit}}").decode().strip()
    except InputError:
        raise InputError(f"unknown revision {rev!r}", path=repo) from None


def walk(repo: Path, *, since: str | None = None) -> History:
    """Every version written by the commits reachable from any ref (and HEAD), oldest
    first; with `since`, only the commits not reachable from it."""
    history = History()
    bounds = _bounds(repo, since, history.notes)
    if bounds is None:
        return history
    start, exclude = bounds
    # a clone missing objects makes rename detection fatal: log_changes then walks
    # without renames (a renamed file's history starts at the rename)
    commits = gitio.log_changes(repo, rev=start, all_refs=True, merges=True, exclude=exclude)
    history.commits = len(commits)
    # newest first from git; a stable sort by time keeps git's order reversed for ties
    for c in sorted(reversed(commits), key=lambda c: c.time):
        for change in c.changes:
            old = history.member(change.old_path) if change.status == "R" else ""
            line = history.member(change.path, fresh=change.status in "AR")
            if change.status == "R":
                history.versions.append(Version(c.sha, c.time, change.old_path, ZERO, line=old))
                history.join(old, line)
                history._vacated.add(change.old_path)
            history.versions.append(Version(
                c.sha, c.time, change.path, change.new_blob,
                renamed_from=change.old_path if change.status == "R" else None, line=line))
    return history


@dataclass
class FirstVersions:
    """blob id -> the oldest version that wrote it (what `walk().blobs()` gives: a moved blob
    keeps its id, so renames change nothing here), read without rename detection or
    building the history; the commits walked, and notes."""

    blobs: dict[str, Version]
    commits: int
    notes: list[str]


def first_versions(repo: Path, *, since: str | None = None,
                   skip_dirs: frozenset[str] = frozenset()) -> FirstVersions:
    out = FirstVersions({}, 0, [])
    bounds = _bounds(repo, since, out.notes)
    if bounds is None:
        return out
    start, exclude = bounds
    commits = gitio.log_blobs(repo, rev=start, all_refs=True, merges=True, exclude=exclude,
                              skip_dirs=skip_dirs)
    out.commits = len(commits)
    for sha, when, changes in sorted(reversed(commits), key=lambda c: c[1]):
        for path, blob in changes:
            if blob != ZERO and blob not in out.blobs:
                out.blobs[blob] = Version(sha, when, path, blob)
    return out


def _bounds(repo: Path, since: str | None, notes: list[str]) -> tuple[str, str | None] | None:
    """Where a walk of all refs starts and the commit it excludes (`since`); None without
    any commit. A shallow clone adds a note."""
    exclude = resolve(repo, since) if since else None  # also refused in an empty repo
    start = _start(repo)
    if start is None:
        return None
    if cut := gitio.shallow_roots(repo):
        # a shallow clone has no older commits: what a key read there cannot be seen
        notes.append(f"shallow clone: history is cut at {len(cut)} commit(s), "
                     "older versions are not read (git fetch --unshallow)")
    return start, exclude


def _start(repo: Path) -> str | None:
    """A commit to start the walk of all refs from: HEAD, or on an unborn branch
    (`git checkout --orphan`) any ref, so the other branches are still read; None without
    any commit. A ref or HEAD naming a commit git cannot read is a damaged repository,
    never an empty history."""
    if gitio.has_commits(repo):
        return "HEAD"
    try:
        refs = gitio.git(repo, "for-each-ref", "--format=%(refname)").decode().split()
    except InputError:
        return None  # not a git repository: no history
    for ref in refs:
        if gitio.has_commits(repo, ref):
            return ref
    try:
        broken = refs[0] if refs else gitio.git(repo, "rev-parse", "--quiet", "--verify",
                                                "HEAD").decode().strip()
    except InputError:
        return None  # unborn HEAD, no refs: no commits yet
    raise InputError(f"{broken} names a commit git cannot read (damaged repository)",
                     path=repo)


def tree(repo: Path, rev: str = "HEAD") -> dict[str, str]:
    """path -> blob id of every regular file at `rev` (nothing for a repo without commits)."""
    if not gitio.has_commits(repo):
        return {}
    listing = gitio.git(repo, "ls-tree", "-r", "-z", "--end-of-options", rev)
    out: dict[str, str] = {}
    for record in listing.split(b"\0"):
        meta, _, name = record.partition(b"\t")
        fields = meta.split()
        if len(fields) == 3 and fields[1] == b"blob" and fields[0] != b"120000":
            out[name.decode("utf-8", "surrogateescape")] = fields[2].decode()
    return out


def read(repo: Path, blobs: Iterable[str], *, max_size: int) -> dict[str, bytes]:
    """blob id -> content for the blobs no larger than `max_size` (sizes asked first, so a
    huge binary never comes into memory)."""
    out: dict[str, bytes] = {}
    for part in read_batches(repo, blobs, max_size=max_size):
        out.update(part)
    return out


def read_batches(repo: Path, blobs: Iterable[str], *, max_size: int,
                 batch_bytes: int = 64 << 20) -> Iterator[dict[str, bytes]]:
    """Like `read`, in parts of at most `batch_bytes` (one `cat-file --batch` each), so a
    caller that keeps few of them holds little in memory."""
    ids = sorted(set(blobs) - {ZERO})
    part: list[tuple[str, str]] = []
    size = 0
    for blob, n in gitio.blob_sizes(repo, ids).items():
        if n > max_size:
            continue
        if part and size + n > batch_bytes:
            yield gitio.read_blobs(repo, part)
            part, size = [], 0
        part.append((blob, blob))
        size += n
    if part:
        yield gitio.read_blobs(repo, part)


def worktree_files(repo: Path) -> list[str]:
    """Files of the working tree git would track (committed or not, ignored ones left out)."""
    try:
        out = gitio.git(repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    except InputError:
        return []
    return sorted({p for p in out.decode("utf-8", "surrogateescape").split("\0") if p})
