"""PGP identities: the GnuPG home that gpg (and its agent) would use.

sopskit does not read private PGP keys itself; `sopsfile.datakey` and sops ask gpg, with
this GNUPGHOME (through `sopskit.gpg`, the one gpg adapter).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path


def gnupghome(env: Mapping[str, str]) -> tuple[Path | None, str | None]:
    """GNUPGHOME, else ~/.gnupg, when gpg is installed and the directory exists; else
    None and the reason."""
    if shutil.which("gpg", path=env.get("PATH")) is None:
        return None, "PGP: gpg is not installed"
    if env.get("GNUPGHOME"):
        home = Path(env["GNUPGHOME"]).expanduser()
    elif env.get("HOME"):
        home = Path(env["HOME"]) / ".gnupg"
    else:
        return None, "PGP: neither GNUPGHOME nor HOME is set"
    if home.is_dir():
        return home, None
    if home.exists():  # a file or FIFO: gpg would fail on it (not "does not exist")
        source = "GNUPGHOME " if env.get("GNUPGHOME") else ""
        return None, f"PGP: {source}{home} is not a directory"
    return None, f"PGP: {home} does not exist"
