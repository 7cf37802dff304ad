"""`sopskit edit FILE > out` from a terminal: the editor draws on the terminal, not into
`out` (a terminal editor writing its screen into a redirected stdout leaves the user with
no screen and a file full of escape codes)."""

from __future__ import annotations

import os
import pty
import select
import sys
import time
from pathlib import Path

from tests.integration.conftest import World

SCREEN = "EDITOR-SCREEN-7f3a"


def _run_in_terminal(argv: list[str], env: dict[str, str], cwd: Path, stdout: Path) -> tuple[
        int, bytes]:
    """argv with a new pty as stdin, stderr and controlling terminal, stdout into a file;
    (exit code, what the terminal showed)."""
    pid, master = pty.fork()
    if pid == 0:  # the child: never returns
        try:
            fd = os.open(stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(fd, 1)
            os.chdir(cwd)
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    shown = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1)
        if not ready:
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child side closed
            break
        if not chunk:
            break
        shown += chunk
    _, status = os.waitpid(pid, 0)
    os.close(master)
    return os.waitstatus_to_exitcode(status), shown


def test_the_editor_draws_on_the_terminal_when_stdout_is_redirected(world: World,
                                                                     tmp_path: Path) -> None:
    path = world.write("s.env", "PASSWORD=old-value\n")
    assert world.cli("encrypt", "-i", "--age", world.key.recipient, path).code == 0
    editor = tmp_path / "ed.sh"
    editor.write_text(f"#!/bin/sh\necho {SCREEN}\nsed -i 's/old-value/new-value/' \"$1\"\n")
    editor.chmod(0o755)
    out = tmp_path / "out.txt"
    code, shown = _run_in_terminal(
        [sys.executable, "-m", "sopskit", "--repo", str(world.repo), "edit", str(path)],
        {**world.env, "EDITOR": str(editor), "TERM": "xterm"}, world.repo, out)
    assert code == 0, shown.decode(errors="replace")
    assert SCREEN.encode() in shown
    assert SCREEN not in out.read_text()
    done = world.cli("decrypt", path)
    assert done.code == 0 and "new-value" in done.stdout
