"""The `SOPS_EDITOR` sopskit gives sops during `sopskit edit` (see editcapture.py).

Runs the user's editor (`$SOPS_EDITOR`/`$EDITOR` as the user set them, else vim, nano or vi
as sops would) on the file sops passes, with the user's HOME and without sops' key
variables, then sends the saved content to sopskit over the socket named in the
environment. Exits with the editor's exit code.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import sys
from pathlib import Path

from sopskit import process
from sopskit.engine.editcapture import ACK, EDITOR_ENV, HOME_ENV, SOCKET_ENV
from sopskit.errors import SopskitError


def editor_argv(path: str) -> list[str]:
    """cmd/sops/edit.go: runEditor: shlex-split the editor and append the path."""
    configured = os.environ.get(EDITOR_ENV, "")
    if configured:
        return [*shlex.split(configured), path]
    for name in ("vim", "nano", "vi"):
        found = shutil.which(name)
        if found:
            return [found, path]
    raise SystemExit(201)  # codes.NoEditorFound


def editor_env() -> dict[str, str]:
    """The editor sees the user's HOME and none of the keys sops was given."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SOPS_", "SOPSKIT_"))}
    if HOME_ENV in os.environ:
        env["HOME"] = os.environ[HOME_ENV]
        env.pop("XDG_CONFIG_HOME", None)
    return env


def send(path: str) -> bool:
    """Hand the saved content to sopskit; False when it is gone (killed, interrupted: then
    sopskit reports the failure itself, or nobody is left to tell) or refuses the content
    (invalid with no terminal: exiting non-zero stops sops' re-open loop)."""
    try:
        data = Path(path).read_bytes()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(os.environ[SOCKET_ENV])
            conn.sendall(data)
            conn.shutdown(socket.SHUT_WR)
            return conn.recv(len(ACK)) == ACK
    except OSError:
        return False


def main(argv: list[str]) -> int:
    if len(argv) < 2 or SOCKET_ENV not in os.environ:
        return 2
    try:
        code = process.run_interactive(editor_argv(argv[-1]), env=editor_env())
    except SopskitError as exc:
        print(f"sopskit: error: {exc}", file=sys.stderr)
        return 201
    if code == 0 and not send(argv[-1]):
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
