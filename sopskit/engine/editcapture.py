"""Seeing what the user saved in `sops edit`, in memory, to check the re-encrypted result.

sops runs the editor on its own plaintext temp file and re-encrypts whatever was saved
(`cmd/sops/edit.go: runEditorUntilOk`). To verify that the new file decrypts to exactly
that content, `SOPS_EDITOR` is our shim (`cli/editor_shim.py`): it runs the user's editor, then
sends the saved bytes over a Unix socket in a private 0700 directory to this process.
Nothing is written to disk by us; the socket directory is removed afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import socket
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

SOCKET_ENV = "SOPSKIT_EDIT_SOCKET"
EDITOR_ENV = "SOPSKIT_REAL_EDITOR"
HOME_ENV = "SOPSKIT_USER_HOME"
ACK = b"ok"
REFUSED = b"no"  # the shim then exits non-zero, which ends `sops edit`


class EditCapture:
    """A listening socket that keeps the last content the shim sends.

    `refuse(content)` may return a reason to stop: the shim is told REFUSED and exits with
    an error, so sops stops instead of re-opening the editor; `refused` keeps the reason.
    """

    def __init__(self, refuse: Callable[[bytes], str | None] | None = None) -> None:
        self.last: bytes | None = None
        self.refused: str | None = None
        self._refuse = refuse
        base = "/tmp" if Path("/tmp").is_dir() else None  # noqa: S108 - short AF_UNIX path
        self._dir = Path(tempfile.mkdtemp(prefix="skedit-", dir=base))
        self.path = self._dir / "s"
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(self.path))
        self._server.listen(4)
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> EditCapture:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        self._thread.join(timeout=5)
        shutil.rmtree(self._dir, ignore_errors=True)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            with conn:
                chunks = []
                while chunk := conn.recv(1 << 16):
                    chunks.append(chunk)
                self.last = b"".join(chunks)
                self.refused = self._refuse(self.last) if self._refuse else None
                # Answer only once stored: the shim (and so sops) waits for this, so
                # `last` is set before sops can exit.
                with contextlib.suppress(OSError):
                    conn.sendall(ACK if self.refused is None else REFUSED)

    def editor_env(self, user: dict[str, str]) -> dict[str, str]:
        """The environment sops needs to run our shim in front of the user's editor."""
        real = user.get("SOPS_EDITOR") or user.get("EDITOR") or ""
        env = {k: v for k, v in user.items() if k not in ("SOPS_EDITOR", "EDITOR")}
        env.update({"SOPS_EDITOR": shlex.join([sys.executable, "-m",
                                               "sopskit.cli.editor_shim"]),
                    SOCKET_ENV: str(self.path), EDITOR_ENV: real})
        if "HOME" in os.environ:
            env[HOME_ENV] = os.environ["HOME"]
        return env
