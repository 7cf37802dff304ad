"""Reading age identities from text and files: keys files, `SOPS_AGE_KEY`, keyring entries,
ssh private keys. Errors name the source and line, never the secret.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyrage

from sopskit import agekey
from sopskit.errors import InputError
from sopskit.identity.model import AgeIdentity

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

MAX_KEY_FILE = 1 << 20  # a keys file is a few lines; refuse anything absurd before reading it
_ENCRYPTED_MARKERS = (b"-----BEGIN AGE ENCRYPTED FILE-----", b"age-encryption.org/v1")
_SSH_MARKERS = (b"-----BEGIN OPENSSH PRIVATE KEY-----", b"-----BEGIN RSA PRIVATE KEY-----")
# Asks the user for the passphrase of an age-encrypted keys file (argument: the source label).
# Supplied by the CLI on a terminal; library code never prompts.
Passphrase = Callable[[str], str]
# Identity kinds sops knows (age/keysource.go: parseIdentity) that pyrage cannot use.
_UNSUPPORTED = {"AGE-PLUGIN-": "age plugin"}
# Post-quantum (ML-KEM-768 + X25519) identities: bech32 of a 32-byte seed. sops 3.11 reads
# them; pyrage 1.4 cannot, so they go to sops only (shape checked here, checksum by sops).
PQ_PREFIX = "AGE-SECRET-KEY-PQ-1"
_PQ_SHAPE = re.compile(r"AGE-SECRET-KEY-PQ-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{50,80}\Z")


@dataclass
class Found:
    """What one source yielded: identities, a label per source read, notes on skipped parts."""

    age: list[AgeIdentity] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pq: list[str] = field(default_factory=list, repr=False)  # AGE-SECRET-KEY-PQ-1... (sops)

    def extend(self, other: Found) -> None:
        self.age.extend(other.age)
        self.pq.extend(other.pq)
        self.sources.extend(other.sources)
        self.notes.extend(other.notes)


def generate(source: str = "generated", name: str | None = None) -> AgeIdentity:
    """A new random age X25519 identity."""
    pair = agekey.generate()
    return AgeIdentity(pair.secret, pair.recipient, source, name)


def parse_age_secret(text: str, *, source: str, name: str | None = None,
                     where: str | None = None, line: int | None = None) -> AgeIdentity:
    """One `AGE-SECRET-KEY-1...` identity, checked (bech32 checksum) and in canonical form."""
    try:
        ident = pyrage.x25519.Identity.from_str(text.strip())
    except (pyrage.IdentityError, ValueError) as exc:
        raise InputError("not a valid age identity (expected AGE-SECRET-KEY-1... with a valid "
                         "bech32 checksum)", path=where or source, line=line) from exc
    return AgeIdentity(str(ident), str(ident.to_public()), source, name)


def parse_keys_text(text: str, *, source: str, where: str | None = None) -> Found:
    """Identities in sops/age keys-file syntax: `#` comments, blank lines, one or more
    whitespace-separated identities per line (age: ParseIdentities; several per line since
    sops 3.13). Post-quantum identities are kept for sops (`Found.pq`); plugin identities
    are skipped with a note."""
    found = Found(sources=[source])
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        for token in line.split():
            if token.upper().startswith(PQ_PREFIX[:-1]):
                if not _PQ_SHAPE.match(token.upper()):
                    raise InputError("not a valid post-quantum age identity (expected "
                                     "AGE-SECRET-KEY-PQ-1... in bech32)", path=where or source,
                                     line=lineno)
                found.pq.append(token.upper())
                continue
            kind = next((k for p, k in _UNSUPPORTED.items() if token.upper().startswith(p)), None)
            if kind is not None:
                found.notes.append(f"{where or source}:{lineno}: {kind} identity skipped "
                                   "(sopskit cannot use it natively)")
                continue
            found.age.append(parse_age_secret(token, source=source, where=where or source,
                                              line=lineno))
    return found


def is_ssh_key(data: bytes) -> bool:
    return any(marker in data[:200] for marker in _SSH_MARKERS)


def is_encrypted(data: bytes) -> bool:
    return any(data.lstrip().startswith(marker) for marker in _ENCRYPTED_MARKERS)


def parse_ssh_key(data: bytes, *, source: str, where: str) -> AgeIdentity:
    """An ssh-ed25519 / ssh-rsa private key as an age identity; its public line is the
    recipient sops writes (`ssh-ed25519 AAAA...`). Passphrase-less only, like sops
    (`SOPS_AGE_SSH_PRIVATE_KEY_FILE`)."""
    # imported here: ssh keys are rare and the serialization module costs start-up time
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    key: PrivateKeyTypes
    try:
        if b"OPENSSH PRIVATE KEY" in data:
            key = serialization.load_ssh_private_key(data, password=None)
        else:
            key = serialization.load_pem_private_key(data, password=None)
    except TypeError as exc:  # cryptography: "Password was not given but private key is encrypted"
        raise InputError("the ssh key is passphrase-protected; sops and sopskit need a "
                         "passphrase-less key", path=where) from exc
    except (ValueError, pyrage.IdentityError) as exc:
        raise InputError("not a readable ssh private key", path=where) from exc
    if not isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
        raise InputError("age accepts only ssh-ed25519 and ssh-rsa keys", path=where)
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    return AgeIdentity(data.decode("ascii", "replace"), public, source, None, "ssh")


def read_key_file(path: Path, *, source: str, passphrase: Passphrase | None = None) -> Found:
    """Every identity in `path`: an age keys file (possibly passphrase-encrypted, like sops
    accepts since 3.10: `age/encrypted_keys.go`) or one ssh private key."""
    data = read_small(path)
    if is_ssh_key(data):
        return Found([parse_ssh_key(data, source=source, where=str(path))], [source])
    if is_encrypted(data):
        data = decrypt_key_file(data, path=path, source=source, passphrase=passphrase)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("not a text age identity file", path=path) from exc
    return parse_keys_text(text, source=source, where=str(path))


def read_small(path: Path) -> bytes:
    """The bytes of a key file, refusing huge, unreadable and non-regular ones.

    One non-blocking open, then checks on that descriptor: a FIFO would block the open
    (or the read) until someone writes, `/dev/zero` or `/dev/urandom` never ends, and a
    file that grows while read is cut at the cap and refused."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise InputError("identity file is not a regular file (a FIFO, socket, device "
                                 "or directory); for a key printed by a program use "
                                 "SOPS_AGE_KEY_CMD",
                                 path=path)
            data = fh.read(MAX_KEY_FILE + 1)
        if info.st_size > MAX_KEY_FILE or len(data) > MAX_KEY_FILE:
            raise InputError(f"identity file is too large (the limit is "
                             f"{MAX_KEY_FILE // 1024} KiB)", path=path)
        return data
    except FileNotFoundError as exc:
        raise InputError("identity file not found", path=path) from exc
    except OSError as exc:
        raise InputError(f"cannot read identity file ({exc.strerror})", path=path) from exc


def decrypt_key_file(data: bytes, *, path: Path, source: str,
                     passphrase: Passphrase | None) -> bytes:
    """The plaintext of a passphrase-encrypted keys file (scrypt, through pyrage)."""
    if passphrase is None:
        raise InputError("the identity file is age-encrypted with a passphrase and no "
                         "passphrase can be asked here (not a terminal): run on a terminal, "
                         "or store the key with `sopskit identity add NAME --from-file FILE`",
                         path=path)
    try:
        return bytes(pyrage.passphrase.decrypt(data, passphrase(source)))
    except pyrage.DecryptError as exc:
        raise InputError("wrong passphrase for the age-encrypted identity file",
                         path=path) from exc
