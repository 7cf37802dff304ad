"""Finding the identities an operation may use, in the order of the identities issue:

1. `--identity FILE`; 2. SOPS_AGE_KEY / SOPS_AGE_KEY_FILE / SOPS_AGE_KEY_CMD (and an
explicitly named SOPS_AGE_SSH_PRIVATE_KEY_FILE); 3. the sopskit keyring entries; 4. the
default sops keys.txt; 5. PGP through GNUPGHOME / ~/.gnupg.

sops merges every source it can find, including `~/.ssh/id_*` (sops-format.md 2.2); sopskit
lists them in order, never reads unnamed ssh keys, and lets a check narrow the result to
the key it names (`Identities.only_age`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from sopskit.errors import InputError, KeyringError
from sopskit.identity.gpg import gnupghome
from sopskit.identity.model import AgeIdentity, Identities
from sopskit.identity.parse import Found, Passphrase, parse_age_secret
from sopskit.identity.policy import keyring_skip_reason
from sopskit.identity.sources import from_default_file, from_env, from_files


def discover(*, identity_files: Sequence[Path | str] = (), use_keyring: bool | None = None,
             env: Mapping[str, str] = os.environ,
             registry_names: Mapping[str, str] | None = None,
             passphrase: Passphrase | None = None) -> Identities:
    """Every identity available, in source order, without duplicates.

    `use_keyring`: True always reads the keyring (and raises KeyringError when it cannot),
    False never does, None decides by `policy.keyring_skip_reason` and records a failure
    as a note instead of raising. `registry_names` maps public parts (age recipient)
    to registry key names, to fill `AgeIdentity.name`. `passphrase(source)` is asked for the
    passphrase of an age-encrypted keys file (the CLI prompts on a terminal); without it such
    a file is an InputError. Malformed files or variables raise InputError naming the source
    and line.
    """
    found = Found()
    found.extend(from_files(identity_files, passphrase))
    found.extend(from_env(env, passphrase))
    found.extend(from_keyring(env, use_keyring))
    found.extend(from_default_file(env, passphrase))
    home, note = gnupghome(env)
    if home is not None:
        found.sources.append(f"GNUPGHOME {home}")
    elif note:
        found.notes.append(note)
    ids = Identities(_unique(found.age), home, tuple(found.sources), tuple(found.notes),
                     tuple(dict.fromkeys(found.pq)))
    return ids.named(dict(registry_names)) if registry_names else ids


def from_key_files(identity_files: Sequence[Path | str], *,
                   env: Mapping[str, str] = os.environ) -> Identities:
    """Only the age keys files / ssh private keys named (no environment variable, keyring or
    default file), plus GnuPG (GNUPGHOME or ~/.gnupg: PGP keys have no file of their own)."""
    found = from_files(identity_files, None)
    home, note = gnupghome(env)
    notes = (*found.notes, note) if note else tuple(found.notes)
    return Identities(_unique(found.age), home, tuple(found.sources), notes,
                      tuple(dict.fromkeys(found.pq)))


def from_keyring(env: Mapping[str, str], use_keyring: bool | None) -> Found:
    """The sopskit keyring entries; a skipped or failing keyring becomes a note unless
    the caller asked for the keyring explicitly."""
    skip = keyring_skip_reason(env, use_keyring)
    if skip is not None:
        return Found(notes=[skip])
    try:
        # imported here: `keyring` costs ~0.1 s of start-up and most runs never touch it
        from sopskit.identity.keyring_store import KeyringStore

        store = KeyringStore(env)
        entries = store.read_all()
    except KeyringError as exc:
        if use_keyring:
            raise
        return Found(notes=[f"keyring skipped: {exc.message}"])
    found = Found(sources=[f"keyring ({store.name})"])
    for name, secret in entries:
        if secret is None:
            found.notes.append(f"keyring:{name}: listed in the index but missing (skipped)")
            continue
        try:
            found.age.append(parse_age_secret(secret, source=f"keyring:{name}", name=name))
        except InputError:
            found.notes.append(f"keyring:{name}: not a valid age identity (skipped)")
    return found


def _unique(identities: list[AgeIdentity]) -> tuple[AgeIdentity, ...]:
    """First occurrence of each public part wins; a later copy may supply its name."""
    first: dict[str, AgeIdentity] = {}
    for ident in identities:
        seen = first.get(ident.recipient)
        if seen is None:
            first[ident.recipient] = ident
        elif seen.name is None and ident.name is not None:
            first[ident.recipient] = replace(seen, name=ident.name)
    return tuple(first.values())
