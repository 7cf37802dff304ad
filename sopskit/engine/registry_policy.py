"""The key registry as the source of a file's creation rule (registry.resolve)."""

from __future__ import annotations

from pathlib import Path

from sopskit.registry.locate import registry_path
from sopskit.registry.resolve import resolve
from sopskit.registry.schema import load_registry
from sopskit.repo import relative_posix
from sopskit.sops.config import CreationRule


def from_registry(repo: Path, target: Path) -> CreationRule | None:
    """The registry's rule for `target`, or None when the repository has no registry.

    A path no registry rule matches is a ConfigError (registry.resolve.NoMatchingRule):
    with a registry in place, sopskit never falls back to another source of recipients.
    """
    path = registry_path(repo)
    if path is None:
        return None
    res = resolve(load_registry(path), relative_posix(repo, target))
    groups = res.key_groups or (res.recipients,)
    pgp = [k for k in res.keys if k.type == "pgp"]
    files = tuple(k.public_key for k in pgp if k.public_key is not None)
    return CreationRule(groups, res.crypt_rule, res.mac_only_encrypted, res.shamir_threshold,
                        source=f"{path.name} rule {res.rule_index}",
                        pgp_key_files=files if len(files) == len(pgp) else ())
