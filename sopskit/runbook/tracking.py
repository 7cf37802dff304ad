"""How each cluster receives a change: from its Flux GitRepository when the repository
commits one, else the registry's description of the cluster, else guessed from its name
(and the runbook says so). Tag-tracking clusters decrypt the files of the tag they
reconcile, so the runbook checks that tag for files that still need the old key."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from sopskit import git_tags
from sopskit.flux.check import cluster_sources
from sopskit.flux.tracking import Tracking as FluxTracking
from sopskit.recipient import Recipient
from sopskit.registry.model import Cluster, Key, Registry
from sopskit.runbook.model import Tracking


def tracking(cluster: Cluster, tag: str | None, flux: FluxTracking | None = None,
             where: str = "") -> Tracking:
    """A cluster's tracking: Flux's GitRepository (`flux`), else its registry description,
    else its name."""
    if flux is not None:
        label = f"GitRepository {where}: {flux.kind} {flux.ref}".replace("  ", " ")
        if flux.kind == "branch":
            return Tracking(cluster.name, "branch", flux.ref, False, label)
        # a tag, a semver range (its resolved tag), a pinned commit or ref name
        return Tracking(cluster.name, "tag", flux.tag or (flux.ref if flux.kind == "tag"
                                                          else ""), False, label)
    text = cluster.description.lower()
    branch = re.search(r"tracks\s+(?:the\s+)?([\w./-]+)\s+branch|tracks\s+([\w./-]+)$", text)
    if "tag" in text:
        return Tracking(cluster.name, "tag", tag or "", False)
    if branch:
        return Tracking(cluster.name, "branch", branch.group(1) or branch.group(2), False)
    if cluster.name.lower().startswith("prod"):
        return Tracking(cluster.name, "tag", tag or "", True)
    return Tracking(cluster.name, "branch", "main", True)


def trackings_of(repo: Path, registry: Registry, clusters: tuple[str, ...]
                 ) -> tuple[Tracking, ...]:
    """Each cluster's tracking, read from Flux where the repository says it."""
    flux = cluster_sources(repo, registry)
    tag = git_tags.latest_tag(repo)
    return tuple(tracking(registry.clusters[c], tag, *flux.get(c, (None, "")))
                 for c in clusters if c in registry.clusters)


def still_needing(at_tag: Mapping[str, frozenset[Recipient]], old: Key,
                  new: Key | None) -> list[str]:
    """Files at the tag readable by `old` but not by `new` (all of them while `new` is
    not registered): removing `old` from a cluster on that tag breaks them."""
    return sorted(p for p, rs in at_tag.items() if old.recipient in rs
                  and (new is None or new.recipient not in rs))


def tag_warnings(repo: Path, key: Key, new: Key | None,
                 trackings: tuple[Tracking, ...]) -> tuple[str, ...]:
    """For each tag a tag-tracking cluster reconciles: the files there that `key` can read
    and `new` cannot."""
    by_tag: dict[str, list[str]] = {}
    for t in trackings:
        if t.kind == "tag" and t.ref:
            by_tag.setdefault(t.ref, []).append(t.cluster)
    out = []
    for tag, tagged in sorted(by_tag.items()):
        needing = still_needing(git_tags.recipients_at(repo, tag), key, new)
        if not needing:
            continue
        names = ", ".join(needing[:5]) + (f" and {len(needing) - 5} more"
                                          if len(needing) > 5 else "")
        verb = "reconciles" if len(tagged) == 1 else "reconcile"
        out.append(f"{', '.join(tagged)} {verb} tag {tag}, where {len(needing)} file(s) are "
                   f"encrypted to {key.name} and not to "
                   f"{new.name if new else 'its successor'} ({names}): removing {key.name} "
                   "from those clusters now breaks them. Cut and reconcile a new tag first "
                   "(the roll-out step above), then run this runbook again to re-check.")
    return tuple(out)
