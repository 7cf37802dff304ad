"""The only module that starts child processes.

Every call gets an explicit environment (never the parent's by accident), a timeout, and
typed errors. Output is captured as bytes; callers decide what, if anything, is shown,
because a child's stderr may echo secret values.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, Any

from sopskit.errors import BinaryError, Interrupted

DEFAULT_TIMEOUT = 120.0

# Variables a child may inherit when the caller asks for a base environment: enough for
# locale, temp dirs and the gpg-agent socket, nothing that selects keys or configs.
SAFE_INHERITED = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ", "SYSTEMROOT")


@dataclass(frozen=True)
class Completed:
    """The result of a finished child process."""

    args: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes


def base_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A minimal environment: the safe inherited variables plus `extra`."""
    env = {k: os.environ[k] for k in SAFE_INHERITED if k in os.environ}
    if extra:
        env.update(extra)
    return env


def run(
    args: Sequence[str | Path],
    *,
    env: Mapping[str, str],
    input: bytes | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    cwd: Path | str | None = None,
    max_output: int | None = None,
    spool: bool = False,
) -> Completed:
    """Run `args` to completion with exactly `env`, capturing stdout and stderr.

    `spool`: stdout goes to an unlinked temporary file, read once the child is done. For a
    large output written in many small pieces (`git log` flushes after every commit) this
    spares a wake-up of ours per piece (a third of `git log --all --raw`'s wall time on a
    history of 10,000 commits). Never for output that may hold a secret value: the file is
    on disk while the child runs.

    Raises BinaryError when the program is missing, does not finish within `timeout`, or
    (with `max_output`) prints more than that many bytes on stdout or stderr: the child and
    its process group are killed first, so a command printing without end costs a bounded
    amount of memory.
    """
    argv = tuple(str(a) for a in args)
    if spool:
        if max_output is not None:
            raise ValueError("spool and max_output do not go together")
        with tempfile.TemporaryFile() as sink:
            done = _run(argv, env=env, input=input, timeout=timeout, cwd=cwd, max_output=None,
                        sink=sink)
            sink.seek(0)
            return Completed(argv, done.returncode, sink.read(), done.stderr)
    return _run(argv, env=env, input=input, timeout=timeout, cwd=cwd, max_output=max_output,
                sink=None)


def _run(argv: tuple[str, ...], *, env: Mapping[str, str], input: bytes | None,
         timeout: float, cwd: Path | str | None, max_output: int | None,
         sink: IO[bytes] | None) -> Completed:
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=sink if sink is not None else subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )
    except OSError as exc:
        raise _start_error(exc, argv[0]) from exc
    try:
        if max_output is None:
            out, err = proc.communicate(input=input, timeout=timeout)
        else:
            out, err = _capped(proc, input, timeout, max_output, argv[0])
    except subprocess.TimeoutExpired as exc:
        _kill_group(proc)
        raise BinaryError(
            f"{Path(argv[0]).name} did not finish within {timeout:g}s and was stopped"
        ) from exc
    except BaseException:
        _kill_group(proc)
        raise
    return Completed(argv, proc.returncode, out, err)


def _capped(proc: subprocess.Popen[bytes], input: bytes | None, timeout: float,
            cap: int, program: str) -> tuple[bytes, bytes]:
    """communicate() that keeps at most `cap` bytes per stream and kills the child (raising
    BinaryError) as soon as it prints more."""
    over = threading.Event()
    streams: list[list[bytes]] = [[], []]

    def drain(stream: IO[bytes], into: list[bytes]) -> None:
        kept = 0
        with stream:
            for chunk in iter(lambda: stream.read(65536), b""):
                kept += len(chunk)
                if kept > cap:
                    over.set()
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    return
                into.append(chunk)

    assert proc.stdout is not None and proc.stderr is not None
    readers = [threading.Thread(target=drain, args=(s, c), daemon=True)
               for s, c in ((proc.stdout, streams[0]), (proc.stderr, streams[1]))]
    for reader in readers:
        reader.start()
    if proc.stdin is not None:
        with contextlib.suppress(BrokenPipeError), proc.stdin:
            proc.stdin.write(input or b"")
    proc.wait(timeout=timeout)
    for reader in readers:
        reader.join(timeout=5)
    if over.is_set():
        raise BinaryError(f"{Path(program).name} printed more than {cap:,} bytes "
                          "and was stopped")
    return b"".join(streams[0]), b"".join(streams[1])


def run_interactive(
    args: Sequence[str | Path], *, env: Mapping[str, str], timeout: float | None = None,
    cwd: Path | str | None = None,
) -> int:
    """Run a program attached to the user's terminal (an editor); return its exit code.
    When stdin is a terminal and stdout is not (`sopskit edit FILE > out`), the program's
    stdout is the terminal: an editor would draw its screen into `out`, and the user would
    edit blind."""
    argv = tuple(str(a) for a in args)
    try:
        with _terminal_stdout() as stdout:
            return subprocess.run(argv, env=dict(env), timeout=timeout, cwd=cwd, check=False,
                                  stdout=stdout).returncode
    except OSError as exc:
        raise _start_error(exc, argv[0]) from exc
    except subprocess.TimeoutExpired as exc:
        raise BinaryError(f"{Path(argv[0]).name} did not finish within {timeout}s") from exc


@contextlib.contextmanager
def _terminal_stdout() -> Iterator[IO[bytes] | None]:
    """The controlling terminal, opened for writing, when stdin is a terminal and stdout is
    redirected; None (inherit stdout) otherwise or when there is no terminal to open."""
    tty = None
    try:
        if os.isatty(0) and not os.isatty(1):
            tty = open("/dev/tty", "wb")  # noqa: SIM115 - closed below
    except OSError:
        tty = None
    try:
        yield tty
    finally:
        if tty is not None:
            tty.close()


STDERR_KEPT = 64 * 1024  # of an attached program's stderr: enough for any sops message


def run_attached(
    args: Sequence[str | Path], *, env: Mapping[str, str], cwd: Path | str | None = None,
) -> Completed:
    """Run a program that starts an editor on the user's terminal (`sops edit`): stdin and
    stdout stay the terminal's, stderr is captured in memory (the first STDERR_KEPT bytes)
    and returned, never shown. A killed or interrupted run thus prints nothing of its own
    (sops' "Could not run editor" when a SIGHUP reaches the editor first); the caller turns
    the exit code into one line. The child is killed if we are interrupted."""
    argv = tuple(str(a) for a in args)
    try:
        proc = subprocess.Popen(argv, stderr=subprocess.PIPE, env=dict(env), cwd=cwd)
    except OSError as exc:
        raise _start_error(exc, argv[0]) from exc
    chunks: list[bytes] = []
    assert proc.stderr is not None
    reader = threading.Thread(target=_drain, args=(proc.stderr, chunks), daemon=True)
    reader.start()
    try:
        proc.wait()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait()
        raise
    finally:
        reader.join(timeout=5)
    return Completed(argv, proc.returncode, b"", b"".join(chunks)[:STDERR_KEPT])


def _drain(stream: IO[bytes], chunks: list[bytes]) -> None:
    """Read `stream` to its end, keeping the first STDERR_KEPT bytes (a chatty editor must
    not block on a full pipe)."""
    kept = 0
    with stream:
        for chunk in iter(lambda: stream.read(4096), b""):
            if kept < STDERR_KEPT:
                chunks.append(chunk)
                kept += len(chunk)


def run_user_command(args: Sequence[str | Path], *, env: Mapping[str, str],
                     cwd: Path | str | None = None, grace: float = 5.0) -> int:
    """Run the user's own command on their terminal until it exits; return its exit code
    as a shell reports it (128 + N when signal N ended it).

    No timeout: it is the user's program (a server started by `exec-env` may run for
    days). If we are interrupted (Ctrl-C reaches the child too; SIGTERM/SIGHUP under
    `terminations_interrupt`), the child gets SIGTERM, then SIGKILL after `grace` seconds,
    before the interruption propagates, so callers' clean-ups run after it is gone.
    """
    argv = tuple(str(a) for a in args)
    proc, caught = _start_holding_signals(argv, env, cwd)
    try:
        for signum in caught:  # arrived while the child was being started: handle it now,
            signal.raise_signal(signum)  # with the child known, so that it is stopped
        code = proc.wait()
    except BaseException:
        _stop(proc, grace)
        raise
    return 128 - code if code < 0 else code


_HELD = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _start_holding_signals(argv: tuple[str, ...], env: Mapping[str, str],
                           cwd: Path | str | None) -> tuple[subprocess.Popen[bytes], list[int]]:
    """Start the child with Ctrl-C, SIGTERM and SIGHUP held back until `Popen` returns: an
    interruption raised inside `Popen` (the child already forked, no Popen object yet) would
    leave the child running after we exit. The held signals are returned, to be handled."""
    caught: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        return _popen(argv, env, cwd), caught
    previous = {sig: signal.signal(sig, lambda signum, _f: caught.append(signum))
                for sig in _HELD}
    try:
        proc = _popen(argv, env, cwd)
    except BaseException:
        _restore(previous)
        for signum in caught:  # the start failed: the interruption still counts
            signal.raise_signal(signum)
        raise
    _restore(previous)
    return proc, caught


_Handler = Callable[[int, FrameType | None], Any] | int | None


def _restore(handlers: Mapping[signal.Signals, _Handler]) -> None:
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


def _popen(argv: tuple[str, ...], env: Mapping[str, str],
           cwd: Path | str | None) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(argv, env=dict(env), cwd=cwd)
    except OSError as exc:
        raise _start_error(exc, argv[0]) from exc


def _stop(proc: subprocess.Popen[bytes], grace: float) -> None:
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait()


def _start_error(exc: OSError, program: str) -> BinaryError:
    """One line for a program that could not be started (missing, not executable, not a
    program for this machine: ENOEXEC)."""
    if isinstance(exc, FileNotFoundError):
        return BinaryError("program not found", path=program)
    if isinstance(exc, PermissionError):
        return BinaryError("program is not executable", path=program)
    return BinaryError(f"program cannot be run ({exc.strerror or type(exc).__name__})",
                       path=program)


@contextlib.contextmanager
def terminations_interrupt() -> Iterator[None]:
    """While active, SIGTERM and SIGHUP raise `Interrupted` as Ctrl-C does, so that `with`
    and `finally` clean-ups run (Python's default for them is to die on the spot).

    A closed terminal or a CI timeout kills a whole `sopskit edit`: sops dies without
    removing the editor's plaintext temp file (Go's default for SIGTERM), and only our
    clean-up of its private TMPDIR removes it. Signal handlers belong to the main thread;
    elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise Interrupted(f"stopped by {signal.Signals(signum).name}; nothing was changed")

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
