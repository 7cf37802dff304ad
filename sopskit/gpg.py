"""The one adapter for GnuPG, built on python-gnupg: every gpg run of sopskit goes here.

Reading a data key wrapped for a PGP recipient, listing which secret keys a GnuPG home
holds, reading a public key file (fingerprints, expiry) without importing it anywhere,
generating a key, exporting one, and importing public keys into a scratch home for sops.

python-gnupg has no timeout of its own; a watchdog kills a gpg run that takes longer than
`timeout` (a pinentry nobody answers, a stuck agent), which becomes a BinaryError instead of
a hang. Key files and generated keys only ever live in a scratch GNUPGHOME that is deleted
afterwards: never the user's keyring, unless the call reads the user's own home
(`decrypt`, `secret_fingerprints`, `export_secret`).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import gnupg

from sopskit import process
from sopskit.errors import BinaryError, InputError
from sopskit.recipient import normalise_fingerprint

GPG_TIMEOUT = 60.0
MIN_VERSION = (2, 2)
Pinentry = Literal["agent", "error", "loopback"]


class _OnlyWarnings(logging.Filter):
    """python-gnupg logs what gpg prints at DEBUG (`chunk: ...` of stdout: an unwrapped
    sops data key, an exported secret key; `export_keys result[:100]`): an application that
    embeds sopskit with DEBUG logging would get key material in its log. Its warnings carry
    gpg status lines only."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


if not any(isinstance(f, _OnlyWarnings) for f in gnupg.logger.filters):
    # a filter on the logger itself: dropped where it is made, whatever level or handler
    # the application gives it or the root logger
    gnupg.logger.addFilter(_OnlyWarnings())


class _TimedGPG(gnupg.GPG):  # type: ignore[misc]
    """gnupg.GPG with a watchdog on each gpg process it starts (per calling thread)."""

    def __init__(self, *args: Any, timeout: float, **kwargs: Any) -> None:
        self._timeout = timeout
        self._local = threading.local()
        super().__init__(*args, **kwargs)

    def _open_subprocess(self, args: Any, passphrase: bool = False) -> Any:
        proc = super()._open_subprocess(args, passphrase)
        timer = threading.Timer(self._timeout, self._expire, args=(proc,))
        timer.daemon = True
        self._local.run = [proc, timer, False]
        timer.start()
        return proc

    def _expire(self, proc: Any) -> None:
        run = getattr(self._local, "run", None)
        with contextlib.suppress(OSError):
            proc.kill()
        if run is not None and run[0] is proc:
            run[2] = True

    def _collect_output(self, proc: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return super()._collect_output(proc, *args, **kwargs)
        finally:
            run = getattr(self._local, "run", None)
            if run is not None and run[0] is proc:
                run[1].cancel()

    def check_timeout(self) -> None:
        """Raise BinaryError when this thread's last gpg run was killed by the watchdog."""
        run = getattr(self._local, "run", None)
        if run is not None and run[2]:
            raise BinaryError(f"gpg did not finish within {self._timeout:g}s and was stopped")


def binary() -> str | None:
    """The gpg on PATH, or None."""
    return shutil.which("gpg")


@functools.lru_cache(maxsize=16)
def _gpg(home: str, pinentry: Pinentry = "agent", timeout: float = GPG_TIMEOUT) -> _TimedGPG:
    """A python-gnupg handle on `home` (cached: creating one runs gpg twice)."""
    found = binary()
    if found is None:
        raise BinaryError("gpg not found on PATH (needed for PGP keys)")
    options = ["--no-tty"]
    if pinentry != "agent":
        options += ["--pinentry-mode", pinentry]
    try:
        return _TimedGPG(gpgbinary=found, gnupghome=home, options=options,
                         env=process.base_env({"GNUPGHOME": home}), timeout=timeout)
    except (OSError, ValueError, RuntimeError) as exc:
        raise BinaryError(f"gpg cannot be run ({exc})", path=found) from None


def version() -> tuple[Path, str]:
    """The gpg binary and its version ("2.2.40"); BinaryError when missing or too old."""
    found = binary()
    if found is None:
        raise BinaryError("gpg not found on PATH (needed for PGP keys only)")
    done = process.run([found, "--version"], env=process.base_env(), timeout=30)
    match = re.search(r"^gpg \(GnuPG\) (\d+)\.(\d+)(?:\.(\d+))?",
                      done.stdout.decode("utf-8", "replace"), re.MULTILINE)
    if match is None:
        raise BinaryError("`gpg --version` printed no GnuPG version", path=found)
    text = ".".join(x for x in match.groups() if x)
    if (int(match[1]), int(match[2])) < MIN_VERSION:
        raise BinaryError(f"GnuPG {text} is too old; need >= 2.2", path=found)
    return Path(found), text


@contextlib.contextmanager
def scratch_home() -> Iterator[Path]:
    """A private GNUPGHOME with a short path (agent sockets are limited to ~100 bytes),
    its agent stopped and the directory deleted on exit."""
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


def decrypt(home: Path, message: bytes, *, timeout: float = GPG_TIMEOUT) -> bytes | None:
    """The plaintext of an OpenPGP message (a data key wrapped by sops) with the secret keys
    of `home` (its agent may ask for a passphrase); None when gpg cannot decrypt it."""
    gpg = _gpg(str(home), "agent", timeout)
    done = gpg.decrypt(message)
    gpg.check_timeout()
    # GnuPG 2.2 drops OCB packets it cannot read and prints nothing (sops issue #896).
    return bytes(done.data) if done.ok and done.data else None


def secret_fingerprints(home: Path) -> frozenset[str]:
    """Fingerprints (primary and subkeys) of the secret keys in `home`; empty on failure."""
    try:
        gpg = _gpg(str(home), "error")
        keys = gpg.list_keys(secret=True)
        gpg.check_timeout()
    except BinaryError:
        return frozenset()
    found = set()
    for key in keys:
        found.add(normalise_fingerprint(key["fingerprint"]))
        found |= {normalise_fingerprint(sub[2]) for sub in key.get("subkeys", ())
                  if len(sub) > 2 and sub[2]}
    return frozenset(found)


@dataclass(frozen=True)
class KeyFileInfo:
    """What an armored (or binary) OpenPGP key file holds."""

    fingerprints: tuple[str, ...]  # primary keys, upper-case hex
    has_secret: bool
    expires: date | None = None  # of the first primary key; None: never


def inspect_key_data(data: bytes, *, path: Path | str) -> KeyFileInfo:
    """The primary keys in key-file content (gpg --import-options show-only, in a scratch
    home): InputError naming `path` when gpg finds none."""
    with scratch_home() as home:
        gpg = _gpg(str(home), "error")
        keys = gpg.scan_keys_mem(data)
        gpg.check_timeout()
    if not keys:
        raise InputError("not an OpenPGP key file (gpg found no key in it)", path=path)
    return KeyFileInfo(tuple(k["fingerprint"].upper() for k in keys),
                       any(k["type"] == "sec" for k in keys), _date(keys[0].get("expires")))


def inspect_key_file(path: Path) -> KeyFileInfo:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read key file ({exc.strerror})", path=path) from None
    return inspect_key_data(data, path=path)


def key_expiry(public_key: Path) -> date | None:
    """When the primary key of a public key file expires (None: never, or unreadable)."""
    try:
        return inspect_key_file(public_key).expires
    except (InputError, BinaryError):
        return None


def _date(field: str | None) -> date | None:
    if not field:
        return None
    if field.isdigit():
        return datetime.fromtimestamp(int(field), UTC).date()
    try:
        return date.fromisoformat(field[:10])
    except ValueError:
        return None


def import_key_file(home: Path, key_file: Path) -> None:
    """Import a public key file into the scratch home `home` (for sops to encrypt to)."""
    try:
        data = key_file.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read key file ({exc.strerror})", path=key_file) from None
    gpg = _gpg(str(home), "error")
    done = gpg.import_keys(data)
    gpg.check_timeout()
    if not done.fingerprints:
        raise InputError("gpg could not import this public key file", path=key_file)


@dataclass(frozen=True)
class GeneratedPgp:
    fingerprint: str
    public_armor: str
    secret_armor: str  # never printed or logged


def generate(uid: str, *, home: Path | None = None) -> GeneratedPgp:
    """A new ed25519 (sign) + cv25519 (encrypt) key without passphrase, made in `home` (it
    stays there) or in a scratch home (deleted)."""
    if home is None:
        with scratch_home() as scratch:
            return generate(uid, home=scratch)
    gpg = _gpg(str(home), "loopback")
    name, _, email = uid.partition(" <")
    made = gpg.gen_key(gpg.gen_key_input(
        key_type="EDDSA", key_curve="ed25519", subkey_type="ECDH", subkey_curve="cv25519",
        name_real=name, name_email=email.rstrip(">") or None, expire_date=0,
        no_protection=True))
    gpg.check_timeout()
    if not made.fingerprint:
        raise BinaryError("gpg could not generate a key")
    fpr = str(made.fingerprint).upper()
    public = gpg.export_keys(fpr)
    secret = gpg.export_keys(fpr, secret=True, expect_passphrase=False)
    gpg.check_timeout()
    if "PUBLIC KEY" not in public or "PRIVATE KEY" not in secret:
        raise BinaryError("gpg did not export the generated key")
    return GeneratedPgp(fpr, public, secret)


def export_secret(home: Path, fingerprint: str) -> str | None:
    """The armored secret key from `home` (in memory), or None when gpg has none or wants a
    passphrase (pinentry mode error: never prompts)."""
    try:
        gpg = _gpg(str(home), "error")
        text = gpg.export_keys(fingerprint, secret=True, expect_passphrase=False)
        gpg.check_timeout()
    except BinaryError:
        return None
    return text if isinstance(text, str) and "BEGIN PGP PRIVATE KEY BLOCK" in text else None
