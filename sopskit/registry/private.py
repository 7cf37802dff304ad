"""Where the private part of a newly generated key goes. The one function to extend with
new destinations (the identity package adds the OS keyring)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sopskit.errors import UsageError


@dataclass(frozen=True)
class FileDestination:
    """A new file, created 0600; an existing file is never overwritten."""

    path: Path


PrivateDestination = FileDestination


def check_destination(destination: PrivateDestination) -> None:
    """Refuse early (before generating anything) a destination that cannot be used."""
    if destination.path.exists():
        raise UsageError("refusing to overwrite an existing file with a private key",
                         path=destination.path)
    if not destination.path.parent.is_dir():
        raise UsageError("the directory for the private key does not exist",
                         path=destination.path)


def store_private(name: str, secret: str, destination: PrivateDestination) -> str:
    """Hand the private key `secret` of key `name` to `destination`; say where it went."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(destination.path, flags, 0o600)
    except FileExistsError:
        raise UsageError("refusing to overwrite an existing file with a private key",
                         path=destination.path) from None
    except OSError as exc:
        raise UsageError(f"cannot create the private key file ({exc.strerror})",
                         path=destination.path) from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(secret if secret.endswith("\n") else secret + "\n")
        out.flush()
        os.fsync(out.fileno())
    return f"private key of {name} written to {destination.path} (mode 0600)"
