"""Private directories for plaintext that must exist as a file for a moment (`sops edit`'s
temp file, `exec-file`, `edit --resolve`), and the sweep of the ones a killed run left.

A directory is 0700, in memory (`/dev/shm`, or `$SOPSKIT_SCRATCH_DIR`) when there is one,
and named
`sopskit-<kind>-<pid>-<random>`: the pid of the sopskit process that made it. Every run
removes its own on exit, also on Ctrl-C, SIGTERM and SIGHUP; only `kill -9` of the whole
process group (sops and the editor with it) leaves one behind, with plaintext inside
(sops removes its temp file only on a clean exit: `cmd/sops/edit.go`). So every command that
makes such a directory first removes the leftovers of earlier runs: sopskit's own name
pattern, owned by this user, and made by a process that no longer runs (or whose pid now
belongs to another program). `doctor` lists them.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SHM = Path("/dev/shm")  # noqa: S108 - only a parent for private mkdtemp directories
_NAME = re.compile(r"^sopskit-(edit|exec|resolve)-(\d+)-[A-Za-z0-9_]+$")


def memory_base() -> Path | None:
    """The shared-memory directory when it is usable, else None (the system temp dir)."""
    return SHM if SHM.is_dir() and os.access(SHM, os.W_OK | os.X_OK) else None


SCRATCH_ENV = "SOPSKIT_SCRATCH_DIR"  # a parent other than /dev/shm (e.g. another tmpfs)


def _base() -> Path:
    chosen = os.environ.get(SCRATCH_ENV)
    if chosen:
        return Path(chosen)
    return memory_base() or Path(tempfile.gettempdir())


def private_dir(kind: str) -> Path:
    """A new 0700 directory for `kind` (edit, exec, resolve), after removing the leftovers
    of killed runs. The caller removes it (or uses `private`)."""
    sweep()
    return Path(tempfile.mkdtemp(prefix=f"sopskit-{kind}-{os.getpid()}-", dir=_base()))


@contextlib.contextmanager
def private(kind: str) -> Iterator[Path]:
    """`private_dir(kind)`, removed with everything in it on exit."""
    path = private_dir(kind)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@dataclass(frozen=True)
class Leftover:
    path: Path
    kind: str
    pid: int
    files: int  # how many files are in it (each may be plaintext)


def leftovers() -> list[Leftover]:
    """Directories of earlier sopskit runs that are gone: sopskit's names, this user's."""
    base = _base()
    try:
        entries = list(os.scandir(base))
    except OSError:
        return []
    found = []
    for entry in entries:
        match = _NAME.match(entry.name)
        if match is None or not entry.is_dir(follow_symlinks=False):
            continue
        try:
            if entry.stat(follow_symlinks=False).st_uid != os.geteuid():
                continue
        except OSError:
            continue
        pid = int(match[2])
        if not _running_sopskit(pid):
            found.append(Leftover(Path(entry.path), match[1], pid, _count(Path(entry.path))))
    return found


def sweep() -> list[Leftover]:
    """Remove every leftover; return what was removed."""
    gone = leftovers()
    for left in gone:
        shutil.rmtree(left.path, ignore_errors=True)
    return gone


def _running_sopskit(pid: int) -> bool:
    """Whether `pid` is a live process that may still use its directory (sopskit, or
    Python running it). Unknown means yes: never remove a live run's plaintext."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OverflowError:
        return True  # no process has such a pid: no run of ours made it, keep
    except PermissionError:
        return True  # someone else's process now: not ours to judge, keep
    cmdline = Path(f"/proc/{pid}/cmdline")
    try:
        words = cmdline.read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc (macOS): the pid is alive, keep
    return any(b"sopskit" in w or b"python" in w.lower() for w in words)


def _count(path: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(path))
