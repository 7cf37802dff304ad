"""Writing files atomically: the one place that creates temp files beside a target, fsyncs and
renames them into place (encrypted files, the registry, `.sops.yaml`, the rekey journal).

sops itself truncates and rewrites in place (`os.Create`, sops-format.md 3.7); we write a
0600 temp file next to the target (same filesystem, so the rename is atomic), let the caller
verify what is actually on disk, fsync, give it the replaced file's owner, group and mode
(or refuse when the owner cannot be kept), rename, and fsync the directory. On any failure the
original is untouched and the temp file removed. Temp files are named `.sopskit-*` so that
rekey can recognise ones a killed run left behind (engine/rekey/scope.py).
"""

from __future__ import annotations

import contextlib
import os
import stat
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
    _refuse_special(target)
    try:
        old: os.stat_result | None = target.stat() if keep_mode else None
    except FileNotFoundError:
        old = None
    if old is not None:
        _keep_owner(temp, target, old)
    mode = old.st_mode & 0o7777 if old is not None else new_mode
    if mode is not None:
        os.chmod(temp, mode)  # after chown, which clears set-id bits
    os.replace(temp, target)
    fsync_dir(target.parent)


def _refuse_special(target: Path) -> None:
    """A rename never replaces a FIFO, device or socket: `-o /dev/null` run as root would
    leave a regular file where every program expects the device (sops writes in place, so
    it never does this). A symlink is replaced as a link; what it points to is untouched."""
    try:
        mode = target.lstat().st_mode
    except FileNotFoundError:
        return
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISSOCK(mode):
        raise InputError("is not a regular file (a FIFO, socket or device): not replaced",
                         path=target)


def _keep_owner(temp: Path, target: Path, old: os.stat_result) -> None:
    """The replacement gets the replaced file's owner and group, or the write is refused:
    a rename puts a file of ours in its place (sops rewrites in place, so its owner stays),
    and a shared file that silently becomes ours breaks the others' access to it."""
    new = temp.stat()
    if (new.st_uid, new.st_gid) == (old.st_uid, old.st_gid):
        return
    try:
        os.chown(temp, old.st_uid, old.st_gid)
    except PermissionError:
        raise InputError(f"cannot keep its owner and group (uid {old.st_uid}, gid "
                         f"{old.st_gid}): only they or root can; it is unchanged",
                         path=target) from None


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


def write_to_stream(target: Path, data: bytes) -> bool:
    """Write `data` to `target` when it is a FIFO or a character device (`-o /dev/stdout`,
    a named pipe a consumer reads), the way sops' in-place write does; False (nothing
    written) when it is not one. Renaming a temp file over a FIFO would replace the pipe
    with a plaintext file. A FIFO without a reader blocks until one comes (Ctrl-C stops)."""
    try:
        if not _is_stream(target.stat().st_mode):
            return False
        fd = os.open(target, os.O_WRONLY | os.O_NOCTTY)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise write_error(exc, target) from None
    try:
        if not _is_stream(os.fstat(fd).st_mode):  # swapped since the stat: do not write
            return False
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except OSError as exc:
        raise write_error(exc, target) from None
    finally:
        os.close(fd)
    return True


def _is_stream(mode: int) -> bool:
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


def is_stream(path: Path) -> bool:
    """Whether `path` is (or links to) a FIFO or character device: written, not replaced."""
    try:
        return _is_stream(path.stat().st_mode)
    except OSError:
        return False


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
