"""`sopskit exec-file`: run a command with a path to a file's plaintext.

As `sops exec-file` (cmd/sops/subcommand/exec): the plaintext, in the file's own format,
is offered through a FIFO by default (it never rests on a disk; the command can read it
once) or, with `--no-fifo`, a 0600 file; either lives in a private 0700 directory, in
`/dev/shm` (memory) when there is one, and is removed when the command ends, also when
sopskit is interrupted (Ctrl-C, SIGTERM, SIGHUP). `{}` in the command's arguments is
replaced by the path; without a `{}` the path is appended.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

from sopskit import process, scratch
from sopskit.errors import InputError, UsageError

PLACEHOLDER = "{}"


def private_dir(kind: str = "exec") -> Path:
    """A new 0700 directory, in memory when /dev/shm is usable (`scratch.private_dir`:
    leftovers of killed runs are removed first)."""
    return scratch.private_dir(kind)


def command_with(command: tuple[str, ...], path: Path) -> tuple[str, ...]:
    if not command:
        raise UsageError("no command given (sopskit exec-file FILE -- CMD {})")
    if any(PLACEHOLDER in arg for arg in command):
        return tuple(arg.replace(PLACEHOLDER, str(path)) for arg in command)
    return (*command, str(path))


class _Feeder:
    """Writes the plaintext into a FIFO from a thread (opening it blocks until a reader
    comes), and can release itself when the command never read it."""

    def __init__(self, fifo: Path, data: bytes) -> None:
        self.fifo, self.data = fifo, data
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        with contextlib.suppress(BrokenPipeError, OSError), self.fifo.open("wb") as fh:
            fh.write(self.data)

    def release(self) -> None:
        """Unblock and finish the writer: open the read end ourselves and discard."""
        if not self.thread.is_alive():
            return
        fd = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)
        try:
            while self.thread.is_alive():
                with contextlib.suppress(BlockingIOError):
                    os.read(fd, 1 << 16)
                self.thread.join(0.01)
        finally:
            os.close(fd)


@contextlib.contextmanager
def plaintext_path(data: bytes, name: str, *, fifo: bool = True,
                   kind: str = "exec") -> Iterator[Path]:
    """A path holding `data` while the block runs (a FIFO, or a 0600 file), in a private
    directory (`scratch.private_dir(kind)`) that is gone afterwards."""
    try:
        directory = private_dir(kind)
    except OSError as exc:
        raise InputError(f"cannot make a private directory ({exc.strerror})") from None
    path = directory / name
    feeder: _Feeder | None = None
    try:
        try:
            if fifo:
                os.mkfifo(path, stat.S_IRUSR | stat.S_IWUSR)
                feeder = _Feeder(path, data)
            else:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
        except OSError as exc:
            raise InputError(f"cannot write the plaintext ({exc.strerror})",
                             path=directory) from None
        yield path
    finally:
        if feeder is not None:
            feeder.release()
        shutil.rmtree(directory, ignore_errors=True)


def run_with_file(plaintext: bytes, name: str, command: tuple[str, ...], *,
                  fifo: bool = True, cwd: Path | None = None) -> int:
    """Run `command` with the plaintext's path; return its exit code."""
    command_with(command, Path(name))  # refuse an empty command before decrypting to disk
    with process.terminations_interrupt(), plaintext_path(plaintext, name, fifo=fifo) as path:
        return process.run_user_command(command_with(command, path), env=dict(os.environ),
                                    cwd=cwd)
