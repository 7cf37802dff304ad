"""PGP key files through the real gpg, always in a scratch GNUPGHOME that is deleted after.

Never the user's keyring: reading a public key file must not import it anywhere, and
generating a key must not leave its secret in a keyring the user did not ask for.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sopskit import process
from sopskit.errors import BinaryError, InputError

GPG_TIMEOUT = 60.0


@dataclass(frozen=True)
class KeyFileInfo:
    """What an armored (or binary) OpenPGP key file holds."""

    fingerprints: tuple[str, ...]  # primary keys, upper-case hex
    has_secret: bool


@dataclass(frozen=True)
class GeneratedPgp:
    fingerprint: str
    public_armor: str
    secret_armor: str  # never printed or logged


@contextlib.contextmanager
def scratch_home() -> Iterator[Path]:
    """A private GNUPGHOME with a short path (agent sockets are limited to ~100 bytes)."""
    base = "/tmp" if os.path.isdir("/tmp") else None  # noqa: S108 - short socket paths
    home = Path(tempfile.mkdtemp(prefix="sopskit-gpg-", dir=base))
    home.chmod(0o700)
    try:
        yield home
    finally:
        with contextlib.suppress(BinaryError):
            process.run(["gpgconf", "--homedir", str(home), "--kill", "all"],
                        env=process.base_env(), timeout=GPG_TIMEOUT)
        shutil.rmtree(home, ignore_errors=True)


def _gpg(home: Path, *args: str, input: bytes | None = None) -> process.Completed:
    argv = ["gpg", "--batch", "--no-tty", "--homedir", str(home), "--pinentry-mode",
            "loopback", "--passphrase", "", *args]
    return process.run(argv, env=process.base_env({"GNUPGHOME": str(home)}), input=input,
                       timeout=GPG_TIMEOUT)


def inspect_key_file(path: Path) -> KeyFileInfo:
    """The primary fingerprints in the key file `path` (gpg --import-options show-only)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read key file ({exc.strerror})", path=path) from None
    with scratch_home() as home:
        done = _gpg(home, "--with-colons", "--import-options", "show-only", "--import",
                    input=data)
    if done.returncode != 0 or not done.stdout:
        raise InputError("not an OpenPGP key file (gpg found no key in it)", path=path)
    return _parse_colons(done.stdout.decode("utf-8", "replace"))


def _parse_colons(text: str) -> KeyFileInfo:
    fingerprints: list[str] = []
    has_secret = False
    primary = False
    for line in text.splitlines():
        fields = line.split(":")
        if fields[0] in ("pub", "sec"):
            primary = True
            has_secret = has_secret or fields[0] == "sec"
        elif fields[0] in ("sub", "ssb"):
            primary = False
        elif fields[0] == "fpr" and primary and len(fields) > 9:
            fingerprints.append(fields[9].upper())
            primary = False
    return KeyFileInfo(tuple(fingerprints), has_secret)


def generate(uid: str) -> GeneratedPgp:
    """A new ed25519 (sign) + cv25519 (encrypt) key without passphrase, in a scratch home."""
    with scratch_home() as home:
        made = _gpg(home, "--quick-gen-key", uid, "future-default", "default", "never")
        if made.returncode != 0:
            raise BinaryError("gpg could not generate a key (gpg --quick-gen-key failed)")
        listed = _gpg(home, "--with-colons", "--list-secret-keys")
        info = _parse_colons(listed.stdout.decode("utf-8", "replace"))
        if len(info.fingerprints) != 1:
            raise BinaryError("gpg generated an unexpected number of keys")
        fpr = info.fingerprints[0]
        public = _gpg(home, "--armor", "--export", fpr).stdout.decode("ascii")
        secret = _gpg(home, "--armor", "--export-secret-keys", fpr).stdout.decode("ascii")
    if "PUBLIC KEY" not in public or "PRIVATE KEY" not in secret:
        raise BinaryError("gpg did not export the generated key")
    return GeneratedPgp(fpr, public, secret)
