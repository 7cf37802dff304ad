"""Writing files atomically: the one place that creates temp files beside a target, fsyncs and
renames them into place (encrypted files, the registry, `.sops.yaml`, the rekey journal).

sops itself truncates and rewrites in place (`os.Create`, sops-format.md 3.7); we write a
0600 temp file next to the target (same filesystem, so the rename is atomic), let the caller
verify what is actually on disk, fsync, rename, and fsync the directory. On any failure the
original is untouched and the temp file removed. Temp files are named `.sopskit-*` so that
rekey can recognise ones a killed run left behind (engine/rekey/scope.py).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from sopskit.errors import InputError

TEMP_PREFIX = ".sopskit-"
NEW_FILE_MODE = 0o644  # a new registry or .sops.yaml: readable like any file in the repository


def fsync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _mkstemp(target: Path, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=suffix, dir=target.parent)
    os.close(fd)
    return Path(name)


def _write(path: Path, data: bytes) -> None:
    with path.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _commit(temp: Path, target: Path, keep_mode: bool, new_mode: int | None) -> None:
    try:
        mode: int | None = target.stat().st_mode & 0o777 if keep_mode else None
    except FileNotFoundError:
        mode = None
    if mode is None:
        mode = new_mode
    if mode is not None:
        os.chmod(temp, mode)
    os.replace(temp, target)
    fsync_dir(target.parent)


@contextlib.contextmanager
def temp_beside(target: Path, *, suffix: str | None = None) -> Iterator[Path]:
    """A new empty 0600 file in `target`'s directory, removed on exit unless renamed away."""
    try:
        path = _mkstemp(target, target.suffix if suffix is None else suffix)
    except OSError as exc:
        raise write_error(exc, target) from None
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
        _write(path, data)
    except OSError as exc:
        raise write_error(exc, path) from None


def commit(temp: Path, target: Path, *, keep_mode: bool = True,
           new_mode: int | None = None) -> None:
    """Atomically move `temp` over `target`, keeping the target's mode when it exists
    (`keep_mode`), else `new_mode` (default: the temp file's 0600)."""
    try:
        _commit(temp, target, keep_mode, new_mode)
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


def write_atomic(path: Path, text: str | bytes) -> None:
    """Replace `path` with `text` atomically, keeping its mode (0644 for a new file): the
    registry, `.sops.yaml`, a baseline. InputError (exit 3) naming the file when it cannot be
    written (a directory in the way, no permission, disk full); the file is then unchanged
    and no temp file is left."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    temp: Path | None = None
    try:
        temp = _mkstemp(path, ".tmp")
        _write(temp, data)
        _commit(temp, path, True, NEW_FILE_MODE)
    except OSError as exc:
        raise InputError(f"cannot write it ({exc.strerror or type(exc).__name__}); it is"
                         " unchanged", path=path) from None
    finally:
        if temp is not None:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
