"""PGP identities: the GnuPG home that gpg (and its agent) would use.

sopskit does not read private PGP keys itself; `sopsfile.datakey` and sops ask gpg, with
this GNUPGHOME. Listing which registry fingerprints have a secret key there runs gpg.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from sopskit import process
from sopskit.recipient import normalise_fingerprint

GPG_TIMEOUT = 30.0


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
    if not home.is_dir():
        return None, f"PGP: {home} does not exist"
    return home, None


def secret_fingerprints(home: Path, env: Mapping[str, str]) -> frozenset[str]:
    """Fingerprints (primary and subkeys) of the secret keys in `home`; empty on failure."""
    gpg = shutil.which("gpg", path=env.get("PATH"))
    if gpg is None:
        return frozenset()
    done = process.run([gpg, "--batch", "--with-colons", "--homedir", str(home),
                        "--list-secret-keys"], env=process.base_env(), timeout=GPG_TIMEOUT)
    if done.returncode != 0:
        return frozenset()
    lines = done.stdout.decode("utf-8", "replace").splitlines()
    return frozenset(normalise_fingerprint(line.split(":")[9]) for line in lines
                     if line.startswith("fpr:") and len(line.split(":")) > 9)
