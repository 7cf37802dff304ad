"""One `rekey --apply` per repository at a time.

An exclusive `fcntl.flock` on a lock file in the state directory: the kernel releases it
when the holder exits, however it exits (Ctrl-C, kill -9, power cut), so a leftover lock
file never blocks anyone; it only carries the holder's pid for the message.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from sopskit.errors import InputError, UsageError

LOCK_NAME = "rekey.lock"


class RekeyLock:
    """`with RekeyLock(state_dir):` holds the lock or raises UsageError naming the holder."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / LOCK_NAME
        self._fd: int | None = None

    def __enter__(self) -> RekeyLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:  # e.g. a file where the state directory should be
            raise InputError(f"cannot open the rekey lock ({exc.strerror})",
                             path=self.path) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise UsageError(f"another `sopskit rekey --apply` (pid {holder}) is running on "
                             "this repository; wait for it to finish", path=self.path) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
