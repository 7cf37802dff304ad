"""The registry's public keys, as the identity commands need them (name -> public part)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sopskit.recipient import Recipient
from sopskit.registry.locate import registry_path

if TYPE_CHECKING:
    from sopskit.identity.model import Identities
    from sopskit.identity.parse import Passphrase


@dataclass(frozen=True)
class RegistryKeys:
    """Registry key name -> its recipient, and the registry file they came from."""

    path: Path
    keys: dict[str, Recipient]

    def names_by_public(self) -> dict[str, str]:
        """Public part (age recipient / PGP fingerprint) -> registry key name."""
        return {r.id: name for name, r in self.keys.items()}


def load_registry_keys(repo: Path, *, explicit: Path | str | None = None,
                       env: Mapping[str, str] | None = None) -> RegistryKeys | None:
    """The registry of `repo` (`--registry`, SOPSKIT_REGISTRY, keys/registry.yaml), or None
    when the repo has none. Raises ConfigError listing every problem of an invalid one."""
    path = registry_path(repo, explicit, env)
    if path is None:
        return None
    # imported here: the schema (validation, glob automata) is only needed when a registry
    # exists, and every decrypting command imports this module at start-up
    from sopskit.registry.schema import load_registry

    registry = load_registry(path)
    return RegistryKeys(Path(path), {name: key.recipient for name, key in registry.keys.items()})


def discover_for_repo(repo: Path, *, identity_files: Sequence[Path | str] = (),
                      use_keyring: bool | None = None,
                      passphrase: Passphrase | None = None) -> Identities:
    """The identities a command in `repo` uses: `discover()` in its order, with each age
    key named after the repository's registry (the CLI and the Python API both call this)."""
    from sopskit.identity.discover import discover

    registry = load_registry_keys(repo)
    names = registry.names_by_public() if registry else None
    return discover(identity_files=identity_files, use_keyring=use_keyring,
                    registry_names=names, passphrase=passphrase)
