"""`sopskit runbook rotate-key`: the ordered steps to replace one key in this repository.

The order is what keeps every cluster able to decrypt at every moment: the new key goes
into the clusters' decryption Secrets and into the files first; only when every cluster
has reconciled files readable by the new key (a tag-tracking cluster only after a new tag)
is the old key retired, the data keys rotated, and the old key taken out of the clusters.
A key that is already retired, revoked or expired is no recipient any more: the first
re-key removes it, so the runbook has one re-key and one roll-out (and, for a revoked key,
starts with the values it could read).

What each step's commands will do (the Secret's entries, the rekey plan's actions) is
computed with the registry as it will be at that step (`simulate`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sopskit.engine.rekey.plan import Plan
from sopskit.errors import UsageError
from sopskit.history.exposure import KeyRef, exposure
from sopskit.identity.model import Identities
from sopskit.registry import fields
from sopskit.registry.model import ALL_CLUSTERS, Key, Registry, Status
from sopskit.registry.resolve import today_utc
from sopskit.runbook import simulate, steps
from sopskit.runbook.model import Runbook, Step
from sopskit.runbook.places import group_by_readers, read_places
from sopskit.runbook.tracking import tag_warnings, trackings_of


def default_new_name(name: str) -> str:
    base = re.sub(r"-\d{4,8}$", "", name)
    return f"{base}-{today_utc():%Y%m}"


def _clusters_of(registry: Registry, key: Key) -> tuple[str, ...]:
    return tuple(registry.clusters) if ALL_CLUSTERS in key.clusters else key.clusters


def _removes(plan: Plan, key: Key) -> dict[str, str]:
    """Files whose plan takes `key` out (path -> action)."""
    return {f.path: f.action for f in plan.files if key.recipient in f.removed}


def _check_new_name(new_name: str, name: str) -> None:
    """Refused up front: a runbook for `--to NAME` itself or for a name the registry
    rejects would print steps that make no sense or fail at `keys generate`."""
    if new_name == name:
        raise UsageError(f"--to {new_name}: the new key must have another name than the one "
                         "it replaces")
    try:
        fields.name(new_name, "key")
    except ValueError as exc:
        raise UsageError(f"--to: {exc}") from None


def _key(registry: Registry, name: str) -> Key:
    key = registry.keys.get(name)
    if key is None:
        raise UsageError(f"no key {name!r} in the registry", path=registry.path)
    if not key.managed:
        raise UsageError(f"{name!r} is a {key.type} key: it is rotated in its cloud service; "
                         "sopskit only re-keys files once the registry names the new key",
                         path=registry.path)
    return key


@dataclass(frozen=True)
class _Future:
    """The registry and the rekey plans as they will be at the two re-key steps."""

    added: Registry  # after "generate": the successor registered
    retired: Registry  # after "retire"/"revoke"
    plan_added: Plan
    plan_retired: Plan
    first_removes: dict[str, str]  # files the first re-key already takes the key out of
    left: dict[str, str]  # files only the second re-key takes it out of


def _future(repo: Path, registry: Registry, key: Key, new_name: str, end: Status) -> _Future:
    added = simulate.with_keys(registry, simulate.stand_in(key, new_name, registry))
    retired = simulate.with_status(added, key.name, end)
    plan_added, plan_retired = simulate.plan(repo, added), simulate.plan(repo, retired)
    first = _removes(plan_added, key)
    left = {p: a for p, a in _removes(plan_retired, key).items() if p not in first}
    return _Future(added, retired, plan_added, plan_retired, first, left)


def rotate_key_runbook(repo: Path, registry: Registry, name: str,
                       new: str | None = None, *,
                       identities: Identities | None = None) -> Runbook:
    """The runbook to replace key `name` by `new` (default `<name>-<YYYYMM>`); for a revoked
    key, `identities` that open the files decide values key-less `exposure` calls unknown."""
    key = _key(registry, name)
    new_name = new or default_new_name(name)
    _check_new_name(new_name, name)
    end: Status = "revoked" if key.status == "revoked" else "retired"
    future = _future(repo, registry, key, new_name, end)
    clusters = _clusters_of(registry, key)
    trackings = trackings_of(repo, registry, clusters)
    every = trackings_of(repo, registry, tuple(registry.clusters))
    places = read_places(repo, registry)
    secret_places = [places.secret(c) for c in clusters]
    shared = group_by_readers(places, registry, sorted({*future.first_removes, *future.left}))
    took_out = f" (this also takes {name} out)" if future.first_removes else ""
    book: list[Step] = [
        steps.generate(key, new_name, registry),
        steps.add_to_clusters(key, new_name, secret_places, future.added, trackings),
        steps.rekey("rekey-add", f"Re-key the files for {new_name}{took_out}",
                    future.plan_added),
        steps.commit("commit-add", f"keys: add {new_name} (replaces {name})"
                     + (f", {name} {end}: data keys rotated" if future.first_removes else "")),
        steps.roll_out("roll-out-add", trackings, f"files readable by {new_name}", shared,
                       every),
        steps.retire(key, end)]
    if future.left:
        book += [steps.rekey("rekey-remove", f"Re-key without {name}: new data keys",
                             future.plan_retired, only=future.left),
                 steps.commit("commit-remove", f"keys: {name} {end}, data keys rotated"),
                 steps.roll_out("roll-out-remove", trackings, f"files without {name}", shared,
                                every)]
    warnings = tag_warnings(repo, key, registry.keys.get(new_name), trackings)
    book += [steps.remove_from_clusters(key, secret_places, future.retired, warnings),
             steps.verify(trackings), steps.destroy(key, end)]
    if key.status == "revoked":
        ref = KeyRef(key.name, key.recipient, key.effective_status(today_utc()))
        exposed = exposure(repo, ref, identities=identities)
        held = [f.path for f in exposed.files
                if f.readable_now and not f.listed_now and not f.plaintext]
        if held:  # with the re-key for the new key, before that commit
            book.insert(3, steps.rotate_held(key, held))
        book.insert(0, steps.change_values(key, exposed.live()))
    return Runbook(name, new_name, key.effective_status(today_utc()), trackings, tuple(book))
