"""The exact environment every sops child process gets.

sops merges every age identity source it can find (`~/.ssh/id_ed25519`, `~/.ssh/id_rsa`,
`$XDG_CONFIG_HOME/sops/age/keys.txt`, every `SOPS_AGE_*` variable; sops-format.md 2.2,
`age/keysource.go: MasterKey.loadIdentities`), so "decrypt with the keys sopskit chose" is
only true when HOME and XDG_CONFIG_HOME point at an empty private directory and the chosen
keys arrive in `SOPS_AGE_KEY`, in memory (never a key file written by us).
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from pathlib import Path

from sopskit import process
from sopskit.identity.model import Identities

# GnuPG needs a few more variables than process.SAFE_INHERITED to reach its agent/pinentry.
_GPG_INHERITED = ("GPG_TTY", "TERM", "DISPLAY", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR")


@functools.lru_cache(maxsize=1)
def private_home() -> Path:
    """An empty 0700 directory used as HOME / XDG_CONFIG_HOME of sops, removed at exit."""
    path = Path(tempfile.mkdtemp(prefix="sopskit-home-"))
    atexit.register(_remove, path, os.getpid())
    return path


def _remove(path: Path, owner: int) -> None:
    # A forked worker inherits atexit handlers; only the creating process removes the dir.
    if os.getpid() == owner:
        shutil.rmtree(path, ignore_errors=True)


def child_env(identities: Identities, *, config: Path | None = None,
              extra: dict[str, str] | None = None) -> dict[str, str]:
    """A minimal environment for sops holding exactly `identities` and `config`.

    Without `identities.gnupghome` PGP is switched off: `SOPS_GPG_EXEC` names a program
    that always fails, so sops cannot reach the user's keyring (`pgp/keysource.go`
    falls back to `gpg` with `~/.gnupg` otherwise).
    """
    home = private_home()
    env = process.base_env({k: os.environ[k] for k in _GPG_INHERITED if k in os.environ})
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               SOPS_DISABLE_VERSION_CHECK="1")
    env.update(_key_vars(identities, home))
    if config is not None:
        env["SOPS_CONFIG"] = str(config)
    if extra:
        env.update(extra)
    return env


def _key_vars(identities: Identities, home: Path) -> dict[str, str]:
    """SOPS_AGE_KEY with the x25519 and post-quantum secrets (ssh identities are for the
    native engine only)
    and the GnuPG home, or a gpg that always fails when PGP is not to be used."""
    out: dict[str, str] = {}
    secrets = [i.secret for i in identities.age if i.kind == "x25519"] + list(identities.pq)
    if secrets:
        out["SOPS_AGE_KEY"] = "\n".join(secrets)
    if identities.gnupghome is not None:
        out["GNUPGHOME"] = str(identities.gnupghome)
    else:
        out["GNUPGHOME"] = str(home / "no-gnupg")
        out["SOPS_GPG_EXEC"] = shutil.which("false") or "/bin/false"
    return out
