"""The registry's public keys, as the identity commands need them (name -> public part).

Imported lazily by name: `identity/` sits below `registry/` in no import order, and the
registry is optional (a repo without keys/registry.yaml still has identities).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sopskit.recipient import Recipient, is_pgp_fingerprint


@dataclass(frozen=True)
class RegistryKeys:
    """Registry key name -> its recipient, and the registry file they came from."""

    path: Path
    keys: dict[str, Recipient]

    def names_by_public(self) -> dict[str, str]:
        """Public part (age recipient / PGP fingerprint) -> registry key name."""
        return {r.id: name for name, r in self.keys.items()}


def load_registry_keys(repo: Path) -> RegistryKeys | None:
    """The registry of `repo`, or None when the repo has none. Raises ConfigError when the
    registry is invalid (the registry's own error, with every problem listed)."""
    try:
        locate: Any = importlib.import_module("sopskit.registry.locate")
        schema: Any = importlib.import_module("sopskit.registry.schema")
    except ModuleNotFoundError as exc:  # an install without the registry package
        if not (exc.name or "").startswith("sopskit.registry"):
            raise
        return None
    path = locate.registry_path(repo)
    if path is None:
        return None
    registry = schema.load_registry(path)
    return RegistryKeys(Path(path), {str(n): _recipient(k.recipient)
                                     for n, k in registry.keys.items()})


def _recipient(value: object) -> Recipient:
    if isinstance(value, Recipient):
        return value
    text = str(value)
    return Recipient.pgp(text) if is_pgp_fingerprint(text) else Recipient.age(text)
