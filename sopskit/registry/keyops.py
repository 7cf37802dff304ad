"""The `keys` operations: add, generate, retire, revoke, remove (library side, no output)."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sopskit import agekey, gpg
from sopskit.errors import SopskitError, UsageError
from sopskit.registry import edit, fields
from sopskit.registry.model import Registry
from sopskit.registry.private import PrivateDestination, check_destination, store_private
from sopskit.registry.resolve import today_utc
from sopskit.registry.schema import load_registry
from sopskit.registry.usage import files_needing, rules_needing


@dataclass(frozen=True)
class KeySource:
    """Exactly one of: an age recipient, a PGP public key file, a bare PGP fingerprint."""

    age: str | None = None
    pgp_file: Path | None = None
    fingerprint: str | None = None


@dataclass(frozen=True)
class KeyMeta:
    clusters: tuple[str, ...]
    owner: str | None = None
    expires: date | None = None


def _public_key_copy(registry_path: Path, name: str, source: Path) -> tuple[str, Path | None]:
    """Where the public key file lives relative to the registry (copied in when outside)."""
    base = registry_path.parent.resolve()
    resolved = source.resolve()
    if base in resolved.parents:
        return resolved.relative_to(base).as_posix(), None
    target = base / "pgp" / f"{name}.asc"
    if target.exists():
        raise UsageError(f"{target} already exists; remove it or choose another key name",
                         path=target)
    return f"pgp/{name}.asc", target


def _pgp_fingerprint(path: Path) -> str:
    info = gpg.inspect_key_file(path)
    if info.has_secret:
        raise UsageError("this file holds a PRIVATE key; export the public key"
                         " (gpg --armor --export FPR) and add that", path=path)
    if len(info.fingerprints) != 1:
        raise UsageError(f"the file holds {len(info.fingerprints)} keys; give one",
                         path=path)
    return info.fingerprints[0]


def add_key(registry_path: Path, name: str, source: KeySource, meta: KeyMeta) -> Registry:
    """Register a public key; a PGP key file is copied to `pgp/NAME.asc` beside the registry."""
    chosen = [s for s in (source.age, source.pgp_file, source.fingerprint) if s is not None]
    if len(chosen) != 1:
        raise UsageError("give exactly one of --age, --pgp-file, --fingerprint")
    copy_to: Path | None = None
    public_key = None
    if source.age is not None:
        kind, public = "age", _checked(fields.age_recipient, source.age)
    elif source.pgp_file is not None:
        kind, public = "pgp", _pgp_fingerprint(source.pgp_file)
        public_key, copy_to = _public_key_copy(registry_path, name, source.pgp_file)
    else:
        kind, public = "pgp", _checked(fields.fingerprint, str(source.fingerprint))
    if copy_to is not None and source.pgp_file is not None:
        copy_to.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source.pgp_file, copy_to)
    new = edit.NewKey(name, kind, public, list(meta.clusters), meta.owner, today_utc(),
                      meta.expires, public_key)
    try:
        with edit.registry_lock(registry_path):
            return edit.plan_add(registry_path, new).commit()
    except BaseException:
        if copy_to is not None:
            copy_to.unlink(missing_ok=True)
        raise


def _checked(check: Callable[[str], str], value: str) -> str:
    try:
        return check(value)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


@dataclass(frozen=True)
class Generated:
    registry: Registry
    public: str  # age recipient or PGP fingerprint
    stored: str  # where the private part went
    secret: str = field(repr=False)  # the private key, only for --print-private



def generate_key(registry_path: Path, name: str, kind: str, meta: KeyMeta,
                 destination: PrivateDestination | None) -> Generated:
    """Create a key pair, register the public part, hand the private part on."""
    registry = load_registry(registry_path)
    if name in registry.keys:
        raise UsageError(f"the registry already has a key {name!r}", path=registry_path)
    if destination is not None:
        check_destination(name, destination)
    asc = registry_path.parent / "pgp" / f"{name}.asc"
    if kind == "pgp" and asc.exists():
        raise UsageError("a public key file with this name already exists", path=asc)
    if kind == "age":
        pair = agekey.generate()
        public, secret = pair.recipient, pair.keys_file()
        new = edit.NewKey(name, "age", public, list(meta.clusters), meta.owner, today_utc(),
                          meta.expires)
    else:
        made = gpg.generate(f"{name} <{meta.owner or name + '@sopskit.invalid'}>")
        public, secret = made.fingerprint, made.secret_armor
        asc.parent.mkdir(parents=True, exist_ok=True)
        asc.write_text(made.public_armor, encoding="ascii")
        new = edit.NewKey(name, "pgp", public, list(meta.clusters), meta.owner, today_utc(),
                          meta.expires, f"pgp/{name}.asc")
    return _register_generated(registry_path, name, new, secret, destination=destination,
                               asc=asc)


def _register_generated(registry_path: Path, name: str, new: edit.NewKey, secret: str, *,
                        destination: PrivateDestination | None, asc: Path) -> Generated:
    stored: str | None = None
    try:
        with edit.registry_lock(registry_path):
            planned = edit.plan_add(registry_path, new)
            stored = store_private(name, secret, destination) if destination else "not stored"
            return Generated(planned.commit(), new.public, stored, secret)
    except BaseException:
        if stored is not None and destination is not None:
            # the registry was not written: the private key of a key nobody knows about
            # must not stay in a file or the keyring
            with contextlib.suppress(SopskitError, OSError):
                destination.discard(name)
        if new.type == "pgp":
            with contextlib.suppress(OSError):
                asc.unlink()
        raise


def set_status(registry_path: Path, name: str, status: str) -> Registry:
    with edit.registry_lock(registry_path):
        return edit.plan_status(registry_path, name, status).commit()


def remove_key(registry_path: Path, repo: Path, name: str, *, force: bool) -> list[str]:
    """Remove key `name`; refuse (UsageError listing why) while rules or files need it.
    Returns what still needed it (non-empty only with `force`)."""
    registry = load_registry(registry_path)
    key = registry.keys.get(name)
    if key is None:
        raise UsageError(f"the registry has no key {name!r}", path=registry_path)
    needs = [f"rule {r}" for r in rules_needing(registry, key, today=today_utc())]
    needs += [f"file {f}" for f in files_needing(repo, key)]
    if needs and not force:
        raise UsageError(f"key {name!r} is still needed by: {'; '.join(needs)}. Retire or"
                         " revoke it, rekey those files, then remove it (or pass --force)",
                         path=registry_path)
    with edit.registry_lock(registry_path):
        edit.plan_remove(registry_path, name).commit()
    managed = (registry_path.parent / "pgp" / f"{name}.asc").resolve()
    if key.public_key is not None and key.public_key == managed:  # the copy sopskit made
        with contextlib.suppress(OSError):
            managed.unlink()
    return needs
