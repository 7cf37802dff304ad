"""Running git for sopskit: one environment, one timeout, one error, one blob reader, one
bulk history reader (`log_changes`: every commit's changed files, renames followed).

Every git call goes through `sopskit.process` from here. The environment is minimal (no
system config, C locale) but keeps HOME / GIT_CONFIG_GLOBAL, so `safe.directory` and the
user's identity still apply.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from sopskit import process
from sopskit.errors import InputError

GIT_TIMEOUT = 120.0


def git(repo: Path, *args: str, input: bytes | None = None, spool: bool = False) -> bytes:
    """Run git in `repo`; stdout. A failure is an InputError naming the command (git's
    first stderr line: paths and revisions, never file content); a missing git binary is
    the BinaryError of process.run. `spool`: see process.run (never for blob contents)."""
    env = process.base_env({"GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C",
                            **{k: os.environ[k] for k in ("HOME", "GIT_CONFIG_GLOBAL")
                               if k in os.environ}})
    done = process.run(["git", "-C", str(repo), *args], env=env, input=input,
                       timeout=GIT_TIMEOUT, spool=spool)
    if done.returncode != 0:
        raise InputError(f"git {_subcommand(args)} failed: {_first_error(done.stderr)}"
                         f"{'' if done.stderr.strip() else done.returncode}", path=repo)
    return done.stdout


def _subcommand(args: tuple[str, ...]) -> str:
    """`diff` for `git -c core.quotepath=off diff ...`: the command, not its options."""
    rest = list(args)
    while rest and rest[0].startswith("-"):
        del rest[:2 if rest[0] in ("-c", "-C") else 1]
    return rest[0] if rest else " ".join(args[:1])


def _first_error(stderr: bytes) -> str:
    """git's `fatal:`/`error:` line, else its first line (a `warning:` can come first)."""
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    return next((ln for ln in lines if ln.startswith(("fatal:", "error:"))),
                lines[0] if lines else "")


def merge_file(cwd: Path, current: Path, base: Path, other: Path,
               labels: tuple[str, str, str]) -> int:
    """`git merge-file` (textual three-way merge into `current`, conflict markers where
    both sides changed a line): 0 clean, >0 the number of conflicts, <0 an error."""
    env = process.base_env({"GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"})
    args = ["git", "merge-file"]
    for label in labels:
        args += ["-L", label]
    done = process.run([*args, str(current), str(base), str(other)], env=env, cwd=cwd,
                       timeout=GIT_TIMEOUT)
    return done.returncode


def read_blobs(repo: Path, wanted: list[tuple[str, str]], *,
               missing_ok: bool = False) -> dict[str, bytes]:
    """name -> content for (name, blob id) pairs, in one `git cat-file --batch` asked by
    blob id (a name with a newline or in another encoding cannot shift the answers). With
    `missing_ok` a blob the object store lacks (a partial or damaged clone) is left out
    instead of failing the whole read."""
    if not wanted:
        return {}
    out = git(repo, "cat-file", "--batch", input="".join(f"{b}\n" for _, b in wanted).encode())
    blobs: dict[str, bytes] = {}
    pos = 0
    for name, _ in wanted:
        header_end = out.index(b"\n", pos)
        header = out[pos:header_end].split()
        if len(header) == 2 and header[1] == b"missing" and missing_ok:
            pos = header_end + 1
            continue
        if len(header) != 3:
            raise InputError("git cat-file: blob missing from the object store", path=name)
        size = int(header[2])
        blobs[name] = out[header_end + 1: header_end + 1 + size]
        pos = header_end + 1 + size + 1
    return blobs


# ---- history in bulk ------------------------------------------------------------------------

ZERO = "0" * 40  # the blob id git shows for "no file" (an add's old side, a delete's new side)


@dataclass(frozen=True)
class FileChange:
    """One file changed by one commit (`git log --raw`): for a rename or copy (`status` R or
    C) `old_path` is the name before; otherwise it equals `path`."""

    status: str  # A, M, D, T, R, C (git's letter, without the similarity score)
    old_path: str
    path: str
    old_blob: str  # ZERO when the file was added
    new_blob: str  # ZERO when the file was deleted


@dataclass(frozen=True)
class Commit:
    sha: str
    time: int  # committer time, seconds since the epoch
    changes: tuple[FileChange, ...]


def log_changes(repo: Path, *, renames: bool = True, rev: str = "HEAD", all_refs: bool = False,
                exclude: str | None = None, merges: bool = False) -> list[Commit]:
    """Every commit reachable from `rev`, newest first, with the files each changed, from ONE
    `git log --raw -z` call (rename detection on: `git mv` is one R change, not a delete
    and an add). `all_refs`: every branch and tag too; `exclude`: not the commits reachable
    from that commit. Merge commits list no changes (git's default for `--raw`): what a merge
    brings in is listed by the commits merged; `merges`: a merge lists its changes against
    its first parent, so content made in the merge itself (a resolved conflict, an "evil
    merge") is seen too. An empty repository gives []."""
    return log_changes_renamed(repo, renames=renames, rev=rev, all_refs=all_refs,
                               exclude=exclude, merges=merges)[0]


def log_changes_renamed(repo: Path, *, renames: bool = True, rev: str = "HEAD",
                        all_refs: bool = False, exclude: str | None = None,
                        merges: bool = False) -> tuple[list[Commit], bool]:
    """`log_changes`, and whether renames were looked for: False when asked not to, or
    when this clone lacks blobs rename detection reads (then it is read without them)."""
    if not has_commits(repo, rev):
        return [], renames
    args = _log_args(rev=rev, all_refs=all_refs, exclude=exclude, merges=merges)
    text, renamed = _log(repo, renames, args)
    return parse_log(text.decode("utf-8", "surrogateescape")), renamed


BlobLog = list[tuple[str, int, list[tuple[str, str]]]]  # (commit, time, [(path, blob)])


def log_blobs(repo: Path, *, rev: str = "HEAD", all_refs: bool = False,
              exclude: str | None = None, merges: bool = False,
              skip_dirs: frozenset[str] = frozenset()) -> BlobLog:
    """`log_changes` without renames, lean: (commit, time, [(path, new blob id)]) newest
    first, a deletion with the ZERO id. For reading every blob a history wrote, where
    building a FileChange per change was most of the walk. `skip_dirs`: no file under a
    directory of one of these names, at any depth, and no commit that changed nothing else
    (as a pathspec makes git do)."""
    if not has_commits(repo, rev):
        return []
    text, vendored = _log_text(repo, rev=rev, all_refs=all_refs,
                               exclude=exclude, merges=merges, skip_dirs=skip_dirs)
    out: BlobLog = []
    changes: list[tuple[str, str]] = []
    for m in _RAW_RECORD.finditer(text):
        sha, when, blob, path = m.groups()
        if sha is not None:
            changes = []
            out.append((sha.decode(), int(when or 0), changes))
        elif out:
            name = path.decode("utf-8", "surrogateescape")
            if not (vendored and _under(name, skip_dirs)):
                changes.append((name, blob.decode()))
    return [c for c in out if c[2]] if skip_dirs else out


# `log -z --raw --no-renames --format=%x01%H %ct`: a commit header, or one change (old and
# new mode, old and new blob id, status without a score) and its one path
_RAW_RECORD = re.compile(rb"\x01([0-9a-f]+) (\d*)\0"
                         rb"|\n?:[0-7]+ [0-7]+ [0-9a-f]+ ([0-9a-f]+) [AMDTUX]\0([^\0]*)\0")


def _log_text(repo: Path, *, rev: str, all_refs: bool, exclude: str | None,
              merges: bool, skip_dirs: frozenset[str]) -> tuple[bytes, bool]:
    """The raw log, and whether paths under `skip_dirs` are still in it (then the caller
    leaves them out; git does when they are many)."""
    args = _log_args(rev=rev, all_refs=all_refs, exclude=exclude, merges=merges)
    text, _ = _log(repo, False, args)
    vendored = sum(text.count(f"{d}/".encode()) for d in skip_dirs)
    if vendored > _SKIP_BY_GIT:
        # A vendored tree can be most of a history's changes (getsops/sops: 50 MB of log,
        # 300,000 vendored changes): then git leaves them out. Not by default: a pathspec
        # on every commit costs more than the whole log of a repository without one.
        # A pathspec turns on history simplification, which hides a side branch whose
        # merge left the paths as they were (a secret added, then removed, then merged).
        text, _ = _log(repo, False, ("--full-history", *args, "--",
                                       *(f":(exclude,glob)**/{_glob_literal(d)}/**"
                                         for d in sorted(skip_dirs))))
    # the filtered log may still name a `vendor/` (a file named so): filter it alike
    return text, vendored > 0


_SKIP_BY_GIT = 20_000  # vendored changes in a log worth a second, filtered, `git log`


def _log_args(*, rev: str, all_refs: bool, exclude: str | None,
              merges: bool) -> tuple[str, ...]:
    return ("--format=%x01%H %ct", *(["--diff-merges=first-parent"] if merges else []),
            *(["--all"] if all_refs else []), "--end-of-options", rev,
            *([f"^{exclude}"] if exclude else []))


def _log(repo: Path, renames: bool, args: tuple[str, ...]) -> tuple[bytes, bool]:
    """The raw log, and whether it looked for renames."""
    try:
        return git(repo, "-c", "diff.renameLimit=5000", "log", "-z", "--raw", "--no-abbrev",
                   "--root", "-M" if renames else "--no-renames", *args, spool=True), renames
    except InputError:
        if not renames:
            raise
        # Rename detection reads blobs; a clone missing some (pruned, partial, damaged)
        # makes `git log -M` fatal. The history without renames is still true, only less
        # complete: a renamed file then starts its history at the rename.
        return git(repo, "log", "-z", "--raw", "--no-abbrev", "--root", "--no-renames", *args,
                   spool=True), False


def _under(path: str, dirs: frozenset[str]) -> bool:
    return "/" in path and not dirs.isdisjoint(path.split("/")[:-1])


def _glob_literal(name: str) -> str:
    """`name` matched literally inside a glob pathspec."""
    return "".join(f"[{c}]" if c in "*?[]\\" else c for c in name)


def diff_changes(repo: Path, *args: str, paths: tuple[str, ...] = ()) -> list[FileChange]:
    """The files `git diff --raw ARGS -- PATHS` lists (renames found), with both blob ids;
    the work tree's side of a change has the ZERO id (git does not hash it): read the file."""
    git(repo, "rev-parse", "--git-dir")  # outside a repository `git diff` is --no-index
    text = git(repo, "-c", "diff.renameLimit=5000", "diff", "-z", "--raw", "--no-abbrev", "-M",
               *args, "--", *paths)
    commits = parse_log("\x01diff 0\0" + text.decode("utf-8", "surrogateescape"))
    return list(commits[0].changes) if commits else []


def has_commits(repo: Path, rev: str = "HEAD") -> bool:
    """True when `rev` names a commit (False in a repository without any)."""
    try:
        git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    except InputError:
        return False
    return True


def parse_log(text: str) -> list[Commit]:
    """`log -z --raw --format=%x01%H %ct`: NUL-separated tokens; a commit header starts
    with \\x01; a change is `:META` then its path (two paths for R/C). With -z a path is
    never quoted, whatever characters it holds."""
    commits: list[Commit] = []
    sha, when, changes = "", 0, list[FileChange]()
    tokens = iter(text.split("\0"))
    for raw in tokens:
        token = raw.lstrip("\n")
        if token.startswith("\x01"):
            if sha:
                commits.append(Commit(sha, when, tuple(changes)))
            head, _, ct = token[1:].partition(" ")
            sha, when, changes = head, int(ct.strip() or 0), []
        elif token.startswith(":"):
            fields = token.split()
            if len(fields) < 5:
                continue
            status = fields[4][:1]
            first = next(tokens, "")
            second = next(tokens, "") if status in "RC" else first
            changes.append(FileChange(status, first, second, fields[2], fields[3]))
    if sha:
        commits.append(Commit(sha, when, tuple(changes)))
    return commits


def shallow_roots(repo: Path) -> frozenset[str]:
    """The commits where a shallow clone's history is cut (empty for a full clone): a file
    "added" there may be older."""
    path = Path(git(repo, "rev-parse", "--git-path", "shallow").decode().strip())
    path = path if path.is_absolute() else repo / path
    try:
        return frozenset(path.read_text(encoding="ascii").split())
    except OSError:
        return frozenset()


def blob_sizes(repo: Path, ids: list[str]) -> dict[str, int]:
    """blob id -> size, from one `git cat-file --batch-check` (missing objects left out)."""
    if not ids:
        return {}
    out = git(repo, "cat-file", "--batch-check", input="".join(f"{b}\n" for b in ids).encode())
    sizes: dict[str, int] = {}
    for line in out.decode("ascii", "replace").splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[1] == "blob":
            sizes[fields[0]] = int(fields[2])
    return sizes
