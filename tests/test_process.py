"""`process.run` with `spool`: the same output as a pipe, for a child that writes in many
small pieces, with stderr and the exit code kept."""

from __future__ import annotations

import sys

import pytest

from sopskit import process

_WRITER = ("import sys\n"
           "for i in range(20000):\n"
           "    sys.stdout.write(f'{i:06d} line\\n'); sys.stdout.flush()\n"
           "sys.stderr.write('done\\n'); sys.exit(3)\n")


def test_spool_gives_what_a_pipe_gives() -> None:
    argv = [sys.executable, "-c", _WRITER]
    piped = process.run(argv, env=process.base_env())
    spooled = process.run(argv, env=process.base_env(), spool=True)
    assert spooled == piped
    assert piped.returncode == 3 and piped.stderr == b"done\n"
    assert len(piped.stdout) == 20000 * 12


def test_spool_with_input_and_no_output() -> None:
    done = process.run([sys.executable, "-c", "import sys; sys.stdin.read()"],
                       env=process.base_env(), input=b"x" * 100_000, spool=True)
    assert (done.returncode, done.stdout) == (0, b"")


def test_spool_refuses_a_cap() -> None:
    with pytest.raises(ValueError, match="spool"):
        process.run([sys.executable, "-c", ""], env=process.base_env(), spool=True,
                    max_output=10)
