"""Where the private part of a newly generated key goes.

A destination is anything with `check(name)` (refuse early, before a key is generated),
`store(name, secret) -> str` (say where it went, never the secret) and `discard(name)` (undo
a store when the registry could not be written: no private key of an unregistered key is
left behind). The registry ships the
0600-file destination; the identity package supplies the OS-keyring one
(`sopskit.identity.manage.KeyringDestination`), so the registry does not depend on it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sopskit.errors import UsageError
from sopskit.repo import is_inside


class PrivateDestination(Protocol):
    def check(self, name: str) -> None: ...

    def store(self, name: str, secret: str) -> str: ...

    def discard(self, name: str) -> None: ...


@dataclass(frozen=True)
class FileDestination:
    """A new file, created 0600; an existing file is never overwritten, and never one
    inside `repo` (a private key there is one `git add` away from being committed)."""

    path: Path
    repo: Path | None = None

    def check(self, name: str) -> None:
        if self.repo is not None and is_inside(self.repo, self.path):
            raise UsageError("refusing to write a private key inside the repository (it could"
                             " be committed); name a file outside it, or use --store keyring",
                             path=self.path)
        if self.path.exists():
            raise UsageError("refusing to overwrite an existing file with a private key",
                             path=self.path)
        if not self.path.parent.is_dir():
            raise UsageError("the directory for the private key does not exist", path=self.path)

    def store(self, name: str, secret: str) -> str:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self.path, flags, 0o600)
        except FileExistsError:
            raise UsageError("refusing to overwrite an existing file with a private key",
                             path=self.path) from None
        except OSError as exc:
            raise UsageError(f"cannot create the private key file ({exc.strerror})",
                             path=self.path) from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(secret if secret.endswith("\n") else secret + "\n")
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:  # disk full, quota: no half-written private key stays behind
            self.path.unlink(missing_ok=True)
            raise UsageError(f"cannot write the private key file ({exc.strerror}); nothing"
                             " was kept", path=self.path) from None
        return f"private key of {name} written to {self.path} (mode 0600)"

    def discard(self, name: str) -> None:
        """Delete the file `store` created (O_EXCL: it was ours)."""
        self.path.unlink(missing_ok=True)


def check_destination(name: str, destination: PrivateDestination) -> None:
    """Refuse early (before generating anything) a destination that cannot be used."""
    destination.check(name)


def store_private(name: str, secret: str, destination: PrivateDestination) -> str:
    """Hand the private key `secret` of key `name` to `destination`; say where it went."""
    return destination.store(name, secret)
