"""The explicit identity operations behind `sopskit identity add/remove/export`.

These use the keyring because the user asked for it: a missing or locked keyring is a
KeyringError naming the alternatives, never a silent fallback.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from sopskit.errors import InputError, NoIdentityError, UsageError
from sopskit.identity.model import AgeIdentity
from sopskit.identity.parse import generate, parse_keys_text, read_key_file
from sopskit.identity.registry_link import RegistryKeys

if TYPE_CHECKING:
    from sopskit.identity.keyring_store import KeyringStore


def new_identity(*, from_file: Path | None = None, text: str | None = None,
                 generate_new: bool = False) -> AgeIdentity:
    """Exactly one age X25519 identity from a file, from text (stdin), or a new one."""
    if sum((from_file is not None, text is not None, generate_new)) != 1:
        raise UsageError("give exactly one of --from-file FILE, --stdin, --generate")
    if generate_new:
        return generate("generated")
    if from_file is not None:
        found = read_key_file(from_file, source=str(from_file))
        where = str(from_file)
    else:
        found = parse_keys_text(text or "", source="stdin")
        where = "stdin"
    if any(i.kind == "ssh" for i in found.age):
        raise InputError("an ssh key is not stored in the keyring: name it with --identity "
                         "FILE or SOPS_AGE_SSH_PRIVATE_KEY_FILE", path=where)
    if len(found.age) != 1:
        raise InputError(f"expected exactly one age identity (AGE-SECRET-KEY-1...), found "
                         f"{len(found.age)}", path=where)
    return found.age[0]


def check_registry(name: str, identity: AgeIdentity, registry: RegistryKeys | None) -> str | None:
    """Refuse a key whose public part is not registry key `name`'s; a note when there is no
    such registry key to compare with."""
    if registry is None:
        return None
    expected = registry.keys.get(name)
    if expected is None:
        return f"note: the registry ({registry.path}) has no key {name!r}; stored unchecked"
    if expected.type != "age" or expected.id != identity.recipient:
        raise UsageError(f"registry key {name!r} is {expected}, but this identity's public "
                         f"part is {identity.recipient}: refusing to store it under that name",
                         path=registry.path)
    return None


def add_identity(name: str, identity: AgeIdentity, *, env: Mapping[str, str] | None = None,
                 replace: bool = False) -> str:
    """Store `identity` as keyring entry `name`; returns the keyring backend's name."""
    check_name(name)
    store = _store(env)
    if not replace and store.get(name) is not None:
        raise UsageError(f"the keyring already holds an identity named {name!r}; "
                         "pass --force to replace it")
    store.put(name, identity.secret)
    return store.name


def remove_identity(name: str, *, env: Mapping[str, str] | None = None) -> None:
    if not _store(env).delete(check_name(name)):
        raise NoIdentityError(f"the keyring holds no identity named {name!r}")


def export_identity(name: str, *, env: Mapping[str, str] | None = None) -> str:
    """The secret of keyring entry `name` (the caller prints it, with a warning)."""
    secret = _store(env).get(check_name(name))
    if secret is None:
        raise NoIdentityError(f"the keyring holds no identity named {name!r}")
    return secret


def ensure_storable(name: str, *, env: Mapping[str, str] | None = None) -> None:
    """Refuse early (before generating a key) when the keyring cannot take entry `name`:
    no usable keyring (KeyringError) or the name is taken (UsageError)."""
    check_name(name)
    if _store(env).get(name) is not None:
        raise UsageError(f"the keyring already holds an identity named {name!r}")


def store_secret(name: str, secret: str, *, env: Mapping[str, str] | None = None) -> str:
    """Keep a freshly generated age secret as keyring entry `name` (`keys generate --store
    keyring`); says where it went, never the secret."""
    # the generated text is a keys file (comment lines + one identity), as age-keygen writes
    found = parse_keys_text(secret, source=f"keyring:{name}", where=f"new key {name}")
    if len(found.age) != 1:
        raise InputError(f"expected exactly one age identity for {name}, found {len(found.age)}")
    identity = replace(found.age[0], name=name)
    backend = add_identity(name, identity, env=env)
    return f"private key of {name} stored in the OS keyring ({backend})"


def _store(env: Mapping[str, str] | None) -> KeyringStore:
    # imported on use: `keyring` costs ~0.1 s of start-up that other commands should not pay
    from sopskit.identity.keyring_store import KeyringStore

    return KeyringStore(env)


def check_name(name: str) -> str:
    from sopskit.identity.keyring_store import check_name as check

    return check(name)


class KeyringDestination:
    """`keys generate --store keyring`: the private part becomes keyring entry NAME
    (the registry's PrivateDestination protocol)."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.env = env

    def check(self, name: str) -> None:
        ensure_storable(name, env=self.env)

    def store(self, name: str, secret: str) -> str:
        return store_secret(name, secret, env=self.env)

    def discard(self, name: str) -> None:
        remove_identity(name, env=self.env)
