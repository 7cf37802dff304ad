"""What the commands a runbook prints will do, computed by the code those commands run.

A step of the runbook describes a future state (the new key registered, the old one
retired). Rather than describing it in words, we build that registry in memory and ask the
same functions the commands use: `flux secret`'s key selection, `rekey`'s planner. The new
key's public part does not exist yet; a throwaway recipient of its type stands in (the plan
depends only on which recipients a file has and should have).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sopskit.agekey import generate as generate_age
from sopskit.engine.rekey.desired import Desired
from sopskit.engine.rekey.plan import Plan, make_plan
from sopskit.flux.decryption_secret import cluster_keys, entry_name
from sopskit.recipient import Recipient
from sopskit.registry.model import Key, Registry, Status
from sopskit.registry.resolve import today_utc

PGP_STAND_IN = "0" * 40  # a well-formed fingerprint no real key has


def stand_in(old: Key, name: str, registry: Registry) -> Key:
    """The successor of `old` as `keys generate NAME --type T --cluster ...` registers it
    (the registry's own entry when the key exists already)."""
    if name in registry.keys:
        return registry.keys[name]
    public = (Recipient("pgp", PGP_STAND_IN) if old.type == "pgp"
              else Recipient("age", generate_age().recipient))
    return Key(name, old.type, public, old.clusters, "active", old.owner, created=today_utc())


def with_keys(registry: Registry, *changed: Key) -> Registry:
    """`registry` with these keys added or replaced (nothing is written)."""
    keys = dict(registry.keys)
    keys.update({k.name: k for k in changed})
    return dataclasses.replace(registry, keys=keys)


def with_status(registry: Registry, name: str, status: Status) -> Registry:
    key = registry.keys[name]
    return with_keys(registry, dataclasses.replace(key, status=status))


def secret_entries(registry: Registry, cluster: str) -> list[str]:
    """The entries `sopskit flux secret CLUSTER` writes with this registry."""
    return sorted(entry_name(k.name, k.type) for k in cluster_keys(registry, cluster))


def plan(repo: Path, registry: Registry) -> Plan:
    """`sopskit rekey`'s plan (mode auto, no age-based rotation) with this registry."""
    return make_plan(repo, (), Desired(repo, registry=registry), "auto")


