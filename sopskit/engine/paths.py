"""Where the engine may read and write, and how much it reads.

A path lexically inside the repository must still resolve inside it after following
symlinks (repo.inside); a file is read whole into memory, up to a size limit that no
secrets file reaches, so a mistaken 50 MB argument is refused before sops sees it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sopskit.errors import InputError
from sopskit.fsio import is_stream
from sopskit.repo import display, target

__all__ = ["MAX_INPUT_BYTES", "display", "read_if_small", "read_input", "target"]

MAX_INPUT_BYTES = 16 * 1024 * 1024


def read_input(path: Path, *, shown: str) -> bytes:
    """The whole regular file, or one InputError line saying why not. A FIFO, socket or
    device (`/dev/zero`) would block or never end: refused from one open that never
    blocks, before anything is read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise _read_error(exc, shown) from None
    try:
        _check_regular(os.fstat(fd), shown)
        with os.fdopen(os.dup(fd), "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise _read_error(exc, shown) from None
    finally:
        os.close(fd)


def _check_regular(info: os.stat_result, shown: str) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise InputError("is a directory, not a file", path=shown)
    if not stat.S_ISREG(info.st_mode):
        raise InputError("is not a regular file (a FIFO, socket or device)", path=shown)
    if info.st_size > MAX_INPUT_BYTES:
        raise InputError(f"file is too large ({info.st_size / 1e6:.1f} MB; the limit is "
                         f"{MAX_INPUT_BYTES // (1024 * 1024)} MiB)", path=shown)


def read_if_small(path: str) -> bytes | None:
    """The content of a regular file within the size limit, else None (one open, no
    exception): for scanning many files of which most are not of interest. Symlinks are
    not followed (one may leave the repository) and a FIFO never blocks the scan."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_INPUT_BYTES:
            return None
        try:
            return fh.read()
        except OSError:
            return None


def _read_error(exc: OSError, shown: str) -> InputError:
    if isinstance(exc, FileNotFoundError):
        return InputError("file does not exist", path=shown)
    if isinstance(exc, IsADirectoryError):
        return InputError("is a directory, not a file", path=shown)
    if isinstance(exc, PermissionError):
        return InputError("permission denied", path=shown)
    return InputError(f"cannot read file ({exc.strerror})", path=shown)


def output_target(repo: Path, output: Path) -> Path:
    """Where `-o OUTPUT` writes: a FIFO or character device as given (`/dev/stdout`
    resolves to a `pipe:[…]` name that is no path; a stream is written, never replaced),
    anything else checked like any target in the repository (`repo.target`)."""
    absolute = output.absolute()
    return absolute if is_stream(absolute) else target(repo, output)
