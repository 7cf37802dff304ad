"""The steps of a key rotation. Each builder takes what the commands will do (computed by
`simulate` from the same library code) and words it; nothing here guesses an outcome."""

from __future__ import annotations

from collections.abc import Sequence
from shlex import quote

from sopskit.engine.rekey.plan import Plan
from sopskit.flux.decryption_secret import admin_keys, entry_name
from sopskit.history.exposure import FileExposure, ValueExposure
from sopskit.registry.model import ALL_CLUSTERS, Key, Registry
from sopskit.runbook.model import Step, Tracking
from sopskit.runbook.places import SecretPlace
from sopskit.runbook.simulate import secret_entries


def _files(names: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def generate(key: Key, new: str, registry: Registry) -> Step:
    """Register the successor and keep its private part: an age key goes straight into the
    OS keyring (`--store keyring` checks the keyring before anything is registered, so no
    key is ever registered whose private part was lost); a PGP key into the GnuPG home."""
    clusters = " ".join(f"--cluster {quote(c)}" for c in key.clusters)
    owner = f" --owner {quote(key.owner)}" if key.owner else ""
    done = f"{new} is in the registry" if new in registry.keys else None
    base = f"sopskit keys generate {quote(new)} --type {key.type} {clusters}{owner}"
    notes: tuple[str, ...]
    if key.type == "pgp":
        command = f"{base} --print-private | gpg --batch --import"
        notes = ("the private key goes straight into your GnuPG home; keep an offline backup "
                 "as your team's policy says",)
    else:
        command = f"{base} --store keyring"
        notes = ("the private key goes straight into your OS keyring; keep an offline backup "
                 "as your team's policy says",
                 "no usable OS keyring (`sopskit doctor`)? the command refuses before "
                 "registering anything: use `--private-out FILE` (a new 0600 file outside the "
                 "repository) instead of `--store keyring`")
    return Step("generate", f"Create {new} and register it",
                (command, "sopskit config render"), notes, done=done)


def secret_commands(place: SecretPlace) -> tuple[str, ...]:
    path = quote(place.path)
    return (f"sopskit flux secret {quote(place.cluster)} --out {path}",
            f"sopskit decrypt {path} | kubectl --context {quote(place.cluster)} apply -f -")


def _secret_notes(place: SecretPlace, entries: list[str]) -> list[str]:
    notes = [f"`sopskit flux secret {place.cluster}` writes Secret "
             f"{place.namespace}/{place.name} with {', '.join(entries) or 'no entry'}"]
    if place.inside:
        notes.append(f"{place.path} lies inside Kustomization {place.inside}: add it to "
                     ".sourceignore so that Flux never tries to apply it (it is encrypted to "
                     "the admins, not to the cluster)")
    return notes


def _secrets_after(places: list[SecretPlace], after: Registry
                   ) -> tuple[list[str], dict[str, list[str]]]:
    """What `flux secret` writes for each cluster with registry `after`: notes, entries."""
    notes: list[str] = []
    expect: dict[str, list[str]] = {}
    for place in places:
        expect[place.cluster] = secret_entries(after, place.cluster)
        notes += _secret_notes(place, expect[place.cluster])
    return notes, expect


def add_to_clusters(key: Key, new: str, places: list[SecretPlace], after: Registry,
                    trackings: tuple[Tracking, ...]) -> Step:
    """Regenerate each cluster's decryption Secret with the registry as it is once `new`
    is registered (`after`): exactly the entries `flux secret` will write."""
    if ALL_CLUSTERS in key.clusters:
        return Step("clusters-add", f"Clusters: nothing to add for {new}",
                    notes=(f"{key.name} serves every cluster: an admin key, never stored in "
                           "a cluster. The clusters' decryption Secrets are encrypted to the "
                           "admin keys: they are regenerated once the old key is retired "
                           f"(step \"Re-encrypt the clusters' decryption Secrets without "
                           f"{key.name}\").",))
    notes, expect = _secrets_after(places, after)
    notes.insert(0, "Flux tries every *.agekey (*.asc for PGP) entry of the Secret")
    warnings: list[str] = []
    for place in places:
        if entry_name(key.name, key.type) not in expect[place.cluster]:
            needs = next((t.needs() for t in trackings if t.cluster == place.cluster),
                         "the re-keyed files")
            warnings.append(f"{key.name} is not active, so the Secret no longer holds it: "
                            f"until {place.cluster} has the re-keyed files ({needs}), its "
                            "Kustomizations that decrypt files encrypted only to "
                            f"{key.name} fail to reconcile (running workloads keep their "
                            "Secrets). Do the next steps without a pause.")
    title = (f"Put {new}'s private key into each cluster's Flux decryption Secret"
             + (f", next to {key.name}" if not warnings else ""))
    commands = tuple(c for p in places for c in secret_commands(p))
    return Step("clusters-add", title, commands, tuple(notes), tuple(warnings),
                expect={"secret_entries": expect})


def rekey(step_id: str, title: str, plan: Plan, only: dict[str, str] | None = None) -> Step:
    """A `sopskit rekey` step; `only` narrows the files when part of the plan was already
    carried out by an earlier step (file -> the action left)."""
    actions: dict[str, str] = (dict(only) if only is not None
                               else {f.path: str(f.action) for f in plan.files})
    counts = action_counts_of(actions)
    said = ", ".join(f"{action} for {n} file(s)" for action, n in counts.items()) or \
        "no sops file"
    changed = sorted(p for p, a in actions.items() if a not in ("nothing", "unmanaged"))
    notes = [f"`sopskit rekey` will plan: {said}; --apply re-keys them and prints the proof "
             "per file"]
    if changed:
        notes.append(f"the files it changes: {_files(changed)}")
    return Step(step_id, title, ("sopskit rekey", "sopskit rekey --apply"), tuple(notes),
                expect={"actions": counts, "files": dict(sorted(actions.items()))})


def action_counts_of(actions: dict[str, str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for action in actions.values():
        counts[action] = counts.get(action, 0) + 1
    return dict(sorted(counts.items()))


def commit(step_id: str, message: str) -> Step:
    return Step(step_id, "Commit", ("git add -A keys .sops.yaml && git add -u",
                                    f"git commit -m {quote(message)}"))


def roll_out(step_id: str, trackings: tuple[Tracking, ...], when: str,
             shared: dict[tuple[str, ...], list[str]],
             every: tuple[Tracking, ...] = ()) -> Step:
    """Push or tag for each cluster of the key (`trackings`); files several clusters apply
    are named with what each of those clusters (`every`) needs to get them."""
    commands: list[str] = []
    notes: list[str] = []
    for t in trackings:
        ctx = quote(t.cluster)
        if t.kind == "branch":
            commands += [f"git push origin HEAD:{quote(t.ref)}",
                         f"flux reconcile source git flux-system --context {ctx}",
                         f"flux get kustomizations --context {ctx}"]
            notes.append(f"{t.cluster} tracks the branch {t.ref}: wait until every "
                         "Kustomization is Ready at the pushed commit")
        else:
            commands += [f"git tag -a NEXT_TAG -m {quote(when)} && git push origin NEXT_TAG",
                         f"flux get sources git --context {ctx}",
                         f"flux get kustomizations --context {ctx}"]
            notes.append(f"{t.cluster} tracks release tags (now: {t.ref or 'none'}): replace "
                         "NEXT_TAG by your next release tag and wait until it has reconciled "
                         "that tag, not just until the push")
        if t.source:
            notes.append(f"({t.cluster}: read from its {t.source})")
        if t.guessed:
            notes.append(f"({t.cluster}: tracking guessed from its name; say `tracks ...` "
                         "in its registry description)")
    notes += _shared_notes(every or trackings, shared)
    return Step(step_id, f"Roll out and wait ({when})", tuple(commands), tuple(notes))


def _shared_notes(trackings: tuple[Tracking, ...],
                  shared: dict[tuple[str, ...], list[str]]) -> list[str]:
    """Files several clusters apply (shared bases): each cluster gets them its own way."""
    by_name = {t.cluster: t for t in trackings}
    out = []
    for readers, files in sorted(shared.items()):
        if len(readers) < 2:
            continue
        ways = "; ".join(f"{c} with {by_name[c].needs()}" if c in by_name else
                         f"{c} as it reconciles" for c in readers)
        out.append(f"shared by {', '.join(readers)}: {_files(sorted(files))} — each cluster "
                   f"gets them separately: {ways}")
    return out


def retire(key: Key, end_status: str) -> Step:
    verb = "revoke" if end_status == "revoked" else "retire"
    done = (f"{key.name} is {key.status} in the registry" if key.status == end_status
            else None)
    return Step("retire", f"{verb.capitalize()} {key.name}: it stops being a recipient",
                (f"sopskit keys {verb} {quote(key.name)}", "sopskit config render"), done=done)


def remove_from_clusters(key: Key, places: list[SecretPlace], after: Registry,
                         warnings: tuple[str, ...]) -> Step:
    """Regenerate the Secrets with the registry as it is once the old key is retired."""
    commands = tuple(c for p in places for c in secret_commands(p))
    if ALL_CLUSTERS in key.clusters:
        admins = ", ".join(sorted(k.name for k in admin_keys(after))) or "nobody"
        return Step("clusters-remove",
                    f"Re-encrypt the clusters' decryption Secrets without {key.name}",
                    commands, (f"they are encrypted to the admin keys, then: {admins}",),
                    warnings, expect={"admins": admins.split(", ")})
    entry = entry_name(key.name, key.type)
    patch = quote(f'[{{"op":"remove","path":"/data/{entry}"}}]')
    commands += tuple(f"kubectl --context {quote(p.cluster)} -n {quote(p.namespace)} patch "
                      f"secret {quote(p.name)} --type=json -p {patch}" for p in places)
    notes, expect = _secrets_after(places, after)
    notes.append(f"`kubectl apply` keeps an entry it no longer sees; the patch removes {entry} "
                 "from the live Secret")
    return Step("clusters-remove", f"Remove {key.name} from the clusters' decryption Secrets",
                commands, tuple(notes), warnings, expect={"secret_entries": expect})


def verify(trackings: tuple[Tracking, ...]) -> Step:
    commands: tuple[str, ...] = ("sopskit rekey", "sopskit verify --require-mac .",
                                 "sopskit audit")
    commands += tuple(f"flux get kustomizations --context {quote(t.cluster)}"
                      for t in trackings)
    return Step("verify", "Verify", commands, ("`sopskit rekey` must plan nothing for every "
                                               "file; every Kustomization Ready",))


def destroy(key: Key, end_status: str) -> Step:
    command = (f"gpg --delete-secret-keys {key.recipient.id}" if key.type == "pgp"
               else f"sopskit identity remove {quote(key.name)}")  # the keyring: age only
    return Step("destroy", f"Destroy {key.name}'s private key", (command,),
                ("delete every other copy (backups, password manager, CI variables); "
                 f"keep the public entry in the registry (as {end_status}) for the audit "
                 "trail",))


def _store(f: FileExposure) -> str:
    """The command that stores a file's new values: a file decrypted in place is edited
    as plaintext, then encrypted again."""
    return f"sopskit {'encrypt -i' if f.plaintext else 'edit'} {quote(f.path)}"


def rotate_held(key: Key, files: Sequence[str]) -> Step:
    """New data keys for the files that no longer list `key` but still have the data key
    it unwraps (`sops updatekeys` took it out and kept the key): no recipient goes away
    there, so the re-key step alone would leave them readable with it."""
    paths = " ".join(quote(f) for f in files)
    return Step("rotate-held", f"New data keys for the files {key.name} still reads",
                (f"sopskit rekey --apply --rotate-data-key always {paths}",),
                (f"{key.name} is no recipient of these files any more, but they keep the data "
                 f"key it unwraps from their old versions in git (`sops updatekeys` removed it "
                 "without a rotation): only a new data key ends its access "
                 f"({_files(list(files))})",),
                expect={"files": list(files)})


def change_values(key: Key, live: list[tuple[FileExposure, list[ValueExposure]]]) -> Step:
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
    return Step("change-values", f"{key.name} is revoked (leaked or its holder left): change "
                "the values themselves", tuple(_store(f) for f, _ in live),
                tuple(notes), expect={"values": {f.path: [v.key_path for v in values]
                                                 for f, values in live}})

