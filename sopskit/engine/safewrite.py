"""Replacing a file only after its new content has been verified on disk.

sops itself truncates and rewrites in place (`os.Create`, sops-format.md 3.7); we write a
0600 temp file next to the target (same filesystem, so the rename is atomic), let the caller
verify what is actually on disk, fsync, rename, and fsync the directory. On any failure the
original is untouched and the temp file removed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from sopskit.errors import InputError

TEMP_PREFIX = ".sopskit-"


@contextlib.contextmanager
def temp_beside(target: Path, *, suffix: str | None = None) -> Iterator[Path]:
    """A new empty 0600 file in `target`'s directory, removed on exit unless renamed away."""
    try:
        fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=target.suffix if suffix is None
                                    else suffix, dir=target.parent)
    except OSError as exc:
        raise write_error(exc, target) from None
    os.close(fd)
    path = Path(name)
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def write_error(exc: OSError, target: Path) -> InputError:
    """One line for a write that the filesystem refused (missing dir, permissions, full)."""
    return InputError(f"cannot write here ({exc.strerror or exc.__class__.__name__})",
                      path=target)


def write_synced(path: Path, data: bytes) -> None:
    """Write `data` to an existing file and fsync it."""
    try:
        with path.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        raise write_error(exc, path) from None


def commit(temp: Path, target: Path, *, keep_mode: bool = True) -> None:
    """Atomically move `temp` over `target`, keeping the target's mode when it exists
    (`keep_mode`), else the temp file's 0600."""
    if keep_mode:
        with contextlib.suppress(FileNotFoundError):
            os.chmod(temp, target.stat().st_mode & 0o777)
    try:
        os.replace(temp, target)
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise write_error(exc, target) from None


def replace_verified(target: Path, new_bytes: bytes, verify: Callable[[Path], None]) -> None:
    """Write `new_bytes` to a temp file beside `target`, `verify(temp)`, then replace `target`.

    `verify` raises to refuse; the exception propagates and `target` is byte-identical.
    """
    with temp_beside(target) as temp:
        write_synced(temp, new_bytes)
        verify(temp)
        commit(temp, target)


def replace_file_verified(target: Path, temp: Path, verify: Callable[[Path], None]) -> None:
    """Like `replace_verified` for a temp file a tool already wrote (updatekeys, edit)."""
    verify(temp)
    with temp.open("rb+") as fh:
        os.fsync(fh.fileno())
    commit(temp, target)
