"""What one key could ever read, and which of those values are still the live ones.

A key reads a version when it unwraps its data key: every version of every sops file in the
history of all branches and tags (renames followed) that lists the key as a recipient, and
every version with the same data key as one of those (`_readable`): `sops updatekeys`
removing the key keeps the data key, and so does a copy of the file, so the key's holder,
who has the data key from an old version git keeps for ever, reads those too. For each value
such a version held, today's working tree says:

- `removed`: the file, or the value's key path, is gone;
- a file still on disk that is no longer a sops file (decrypted in place) keeps its values
  as `unknown`: they may be there in plaintext, not removed;
- `unchanged`: today's ciphertext is byte-identical to one the key read (same data key,
  same value: sops keeps the IV of an unchanged value on edit, sops-format.md 3.6; and
  today's file itself when the key reads it: `readable_now`), or an identity of ours opens
  both versions and the values are equal (compared as digests in memory, never shown);
- `changed`: an identity of ours opens both and they differ; key-less, the ciphertext
  length or type differs (AES-GCM keeps the plaintext's length), or it differs while no
  version in between re-encrypted every value (not seen once the data key is followed);
- `unknown`: otherwise (a new data key since, and no identity of ours opens the versions).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from sopskit.engine.policy import check_age
from sopskit.errors import ExitCode, UsageError
from sopskit.history import reader
from sopskit.history.datakey import ciphertexts
from sopskit.history.sopsblobs import MAX_SIZE, Blobs, ValueKey, label
from sopskit.identity.model import Identities
from sopskit.recipient import Recipient, is_pgp_fingerprint
from sopskit.registry.model import Key, Registry
from sopskit.registry.resolve import today_utc
from sopskit.sopsfile.encvalue import EncValue, MalformedValue

ValueStatus = Literal["unchanged", "changed", "removed", "unknown"]
STATUSES: tuple[ValueStatus, ...] = ("unchanged", "changed", "removed", "unknown")
WORKTREE = "worktree"  # the pseudo commit of today's files
OTHER_KINDS = ("kms", "gcp_kms", "azure_kv", "hc_vault", "hckms")


@dataclass(frozen=True)
class KeyRef:
    """The key asked about: a registry key, or a bare recipient the registry does not know."""

    name: str
    recipient: Recipient
    status: str  # active, retired, revoked, expired; "unregistered" without a registry entry

    def reads(self, recipients: Iterable[Recipient]) -> bool:
        if self.recipient.type not in ("age", "pgp"):
            return self.recipient in recipients
        probe = Key(self.name, self.recipient.type, self.recipient, ())
        mine = self.recipient.id
        # KEY given as a 16-hex long id matches a file that stores the fingerprint too
        return any(probe.is_recipient(r) or (r.type == "pgp" == self.recipient.type
                                             and len(mine) == 16 and r.id.endswith(mine))
                   for r in recipients)


def key_ref(text: str, registry: Registry | None) -> KeyRef:
    """KEY as given: a registry key name, or an age recipient / PGP fingerprint."""
    if registry is not None and text in registry.keys:
        key = registry.keys[text]
        return KeyRef(key.name, key.recipient, key.effective_status(today_utc()))
    kind, sep, rest = text.partition(":")
    if sep and kind in ("age", "pgp") and rest:  # `age:age1...` as access and JSON show it
        text = rest
    if text.startswith("age1"):
        check_age(text, "KEY")  # a typo would find nothing and exit 0
        recipient = Recipient.age(text)
    elif is_pgp_fingerprint(text):
        recipient = Recipient.pgp(text)
    elif sep and kind in OTHER_KINDS and rest:
        recipient = Recipient(kind, rest)  # type: ignore[arg-type]
    elif text.startswith("arn:aws:kms:"):
        recipient = Recipient("kms", text)
    else:
        where = "in the registry" if registry is not None else "(no registry)"
        raise UsageError(f"KEY {text!r} is no key name {where}, age recipient or PGP "
                         "fingerprint")
    known = registry.key_by_recipient(recipient) if registry is not None else None
    if known is not None:
        return KeyRef(known.name, known.recipient, known.effective_status(today_utc()))
    return KeyRef(str(recipient), recipient, "unregistered")


@dataclass(frozen=True)
class ValueExposure:
    key_path: str
    status: ValueStatus


@dataclass(frozen=True)
class FileExposure:
    path: str  # today's path, or the last one when the file is gone
    history_paths: tuple[str, ...]
    first_commit: str
    last_commit: str
    readable_now: bool
    values: tuple[ValueExposure, ...]
    exists: bool = True
    plaintext: bool = False  # on disk but no longer a sops file (decrypted in place)
    listed_now: bool = False  # today's file lists the key (else it reads it by data key only)


@dataclass(frozen=True)
class Exposure:
    key: KeyRef
    files: tuple[FileExposure, ...]
    commits: int = 0
    summary: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # what the walk could not do (renames on a partial clone)

    def live(self) -> list[tuple[FileExposure, list[ValueExposure]]]:
        """Per file, the values that are `unchanged` or `unknown` (to change at the source)."""
        out = []
        for f in self.files:
            live = [v for v in f.values if v.status in ("unchanged", "unknown")]
            if live:
                out.append((f, live))
        return out

    def exit_code(self, *, compromised: bool = False) -> ExitCode:
        """1 when the key is retired or revoked (or said compromised) and a value it could
        read may still be live."""
        burnt = compromised or self.key.status in ("retired", "revoked", "expired")
        return ExitCode.FINDINGS if burnt and self.live() else ExitCode.OK

    def as_dict(self) -> dict[str, object]:
        """The JSON contract of issue 12."""
        return {"version": 1,
                "key": {"name": self.key.name, "recipient": str(self.key.recipient),
                        "status": self.key.status},
                "files": [{"path": f.path, "history_paths": list(f.history_paths),
                           "first_commit": f.first_commit, "last_commit": f.last_commit,
                           "readable_now": f.readable_now,
                           "values": [{"key_path": v.key_path, "status": v.status}
                                      for v in f.values]} for f in self.files],
                "summary": {"files": len(self.files), **self.summary}}


# Never a sops file in practice (source code, docs, images, lock files), and vendored trees:
# a history full of vendored Go or JavaScript (GBs of blobs) is not read for nothing.
_NOT_SOPS = frozenset((".go", ".py", ".rs", ".js", ".ts", ".java", ".c", ".h", ".md", ".rst",
                       ".sum", ".mod", ".lock", ".png", ".jpg", ".jpeg", ".gif", ".svg",
                       ".ico", ".css", ".html"))
_VENDORED = frozenset(("vendor", "node_modules", "third_party", ".terraform"))


def maybe_sops(path: str) -> bool:
    """Whether a historic path is worth reading as a possible sops file."""
    parts = path.split("/")
    return (PurePosixPath(parts[-1]).suffix.lower() not in _NOT_SOPS
            and not _VENDORED.intersection(parts[:-1]))


def exposure(repo: Path, key: KeyRef, *, identities: Identities | None = None,
             since: str | None = None) -> Exposure:
    """Every file version `key` could read in history, and each value's status today."""
    history = reader.walk(repo, since=since)
    blobs = Blobs(repo, identities)
    blobs.load({v.blob: v.path for v in history.versions
                if v.blob != reader.ZERO and maybe_sops(v.path)})
    lineages: dict[str, list[reader.Version]] = {}
    for v in history.versions:
        lineages.setdefault(history.lineage(v.member), []).append(v)
    paths = history.paths_of()
    for path in reader.worktree_files(repo):  # never committed: today's version only
        if history.lineage(history.current(path)) not in paths:
            lineages[path], paths[path] = [], [path]
    # today's file of a lineage is at one of its paths that no later file took over
    chains = [chain for name, versions in lineages.items()
              if (chain := _chain(repo, blobs, versions, paths[name], [
                  p for p in paths[name] if history.lineage(history.current(p)) == name]))
              is not None]
    readable = _readable(blobs, key, [v for c in chains for v in c.versions])
    files = [f for c in chains if (f := _file(repo, key, blobs, c, readable)) is not None]
    files.sort(key=lambda f: f.path)
    summary: dict[str, int] = {s: sum(1 for f in files for v in f.values if v.status == s)
                               for s in STATUSES}
    return Exposure(key, tuple(files), history.commits, summary, tuple(history.notes))


@dataclass(frozen=True)
class _Chain:
    """A file's sops versions oldest first (today's last, when it has one)."""

    versions: list[reader.Version]
    paths: list[str]
    held: list[str]  # its paths that today's file may be at
    now: reader.Version | None


def _chain(repo: Path, blobs: Blobs, versions: list[reader.Version], paths: list[str],
           held: list[str]) -> _Chain | None:
    if not any(maybe_sops(p) for p in paths):
        return None
    chain = [v for v in versions if v.blob != reader.ZERO and blobs.doc(v.blob, v.path)]
    now = _current(repo, blobs, held)
    if now is not None:
        chain.append(now)
    return _Chain(chain, paths, held, now)


def _readable(blobs: Blobs, key: KeyRef, versions: list[reader.Version]) -> set[str]:
    """The blobs whose data key KEY holds: those that list KEY as a recipient, and every
    blob with the same data key as one of those. The data key is what KEY unwraps, and it
    outlives KEY's stanza: `sops updatekeys` removing KEY keeps it, and so does a copy of
    the file (`cp`, then edited). Key-less, two blobs share a data key when they share any
    ciphertext (a wrapped data key, a value, the MAC: `datakey.ciphertexts`); with an
    identity of ours that unwraps them, when their data keys are equal. Key-less, a version
    that re-wrapped the key and changed every value at once is not linked (new to KEY)."""
    parent: dict[str, str] = {}

    def root(b: str) -> str:
        while parent.get(b, b) != b:
            parent[b] = parent.get(parent[b], parent[b])
            b = parent[b]
        return b

    owner: dict[bytes, str] = {}
    for v in versions:
        parent.setdefault(v.blob, v.blob)
        tokens = ciphertexts(blobs.data.get(v.blob, b""))
        if (key_id := blobs.key_id(v.blob, v.path)) is not None:
            tokens |= {b"data key " + key_id}  # exact: the data keys compared
        for text in tokens:
            if text in owner:
                parent[root(v.blob)] = root(owner[text])
            else:
                owner[text] = v.blob
    listed = {root(v.blob) for v in versions if key.reads(_doc_recipients(blobs, v))}
    return {v.blob for v in versions if root(v.blob) in listed}


def _file(repo: Path, key: KeyRef, blobs: Blobs, chain: _Chain,
          readable: set[str]) -> FileExposure | None:
    exposed = [v for v in chain.versions if v.blob in readable]
    if not exposed:
        return None
    now, held, paths = chain.now, chain.held, chain.paths
    # the working tree's version counts as a commit only when no commit holds one
    committed = [v for v in exposed if v.commit != WORKTREE] or exposed
    statuses = _statuses(blobs, exposed, chain.versions, now)
    decrypted = now is None and any((repo / p).is_file() for p in held)
    if decrypted:
        statuses = dict.fromkeys(statuses, "unknown")  # decrypted in place, not gone
    return FileExposure(
        path=now.path if now else paths[-1], history_paths=tuple(paths),
        first_commit=committed[0].commit, last_commit=committed[-1].commit,
        readable_now=now is not None and now.blob in readable,
        values=tuple(ValueExposure(label(k), s) for k, s in sorted(statuses.items())),
        exists=now is not None or decrypted, plaintext=decrypted,
        listed_now=now is not None and key.reads(_doc_recipients(blobs, now)))


def _doc_recipients(blobs: Blobs, v: reader.Version) -> frozenset[Recipient]:
    doc = blobs.doc(v.blob, v.path)
    return doc.metadata.recipients if doc is not None else frozenset()


def _current(repo: Path, blobs: Blobs, paths: list[str]) -> reader.Version | None:
    """Today's version (the working tree) of a lineage: its newest path that is a sops
    file on disk."""
    for path in reversed(paths):
        target = repo / path
        try:
            if target.is_symlink() or not target.is_file() \
                    or target.stat().st_size > MAX_SIZE:
                continue
            data = target.read_bytes()
        except OSError:
            continue  # unreadable today: as good as gone for this question
        name = f"{WORKTREE}:{path}"
        blobs.add(name, data)
        if blobs.doc(name, path) is not None:
            return reader.Version(WORKTREE, 2**62, path, name)
    return None


def _statuses(blobs: Blobs, exposed: list[reader.Version], chain: list[reader.Version],
              now: reader.Version | None) -> dict[ValueKey, ValueStatus]:
    keys = {k for v in exposed for k in blobs.values(v.blob, v.path)}
    today = blobs.values(now.blob, now.path) if now else {}
    out: dict[ValueKey, ValueStatus] = {}
    for k in keys:
        if now is None or k not in today:
            out[k] = "removed"
            continue
        seen = [v for v in exposed if k in blobs.values(v.blob, v.path)]
        out[k] = _status(blobs, k, seen, chain, now)
    return out


def _status(blobs: Blobs, k: ValueKey, seen: list[reader.Version],
            chain: list[reader.Version], now: reader.Version) -> ValueStatus:
    text = blobs.values(now.blob, now.path)[k]
    if any(blobs.values(v.blob, v.path)[k] == text for v in seen):
        return "unchanged"  # byte-identical ciphertext: the same value under the same key
    verdicts = [_compare(blobs, k, v, chain, now) for v in seen]
    if "unchanged" in verdicts:
        return "unchanged"
    return "changed" if all(v == "changed" for v in verdicts) else "unknown"


def _compare(blobs: Blobs, k: ValueKey, old: reader.Version, chain: list[reader.Version],
             now: reader.Version) -> ValueStatus:
    """The value of `old` against today's, whose ciphertexts differ."""
    a, b = blobs.plain(old.blob, old.path), blobs.plain(now.blob, now.path)
    if a is not None and b is not None and k in a and k in b:
        return "unchanged" if a[k] == b[k] else "changed"
    if _shape(blobs.values(old.blob, old.path)[k]) != _shape(blobs.values(now.blob,
                                                                          now.path)[k]):
        return "changed"
    return "unknown" if _rotated_between(blobs, old, chain) else "changed"


def _shape(text: str) -> tuple[int, str] | None:
    try:
        enc = EncValue.parse(text)
    except MalformedValue:
        return None
    return len(enc.data), enc.type


def _rotated_between(blobs: Blobs, old: reader.Version, chain: list[reader.Version]) -> bool:
    """Whether a version after `old` (in time) re-encrypted every value it shares with its
    predecessor: a new data key, after which ciphertexts say nothing key-less."""
    after = chain[chain.index(old):]
    for prev, nxt in itertools.pairwise(after):
        a, b = blobs.values(prev.blob, prev.path), blobs.values(nxt.blob, nxt.path)
        common = a.keys() & b.keys()
        if not common or all(a[c] != b[c] for c in common):
            return True
    return False
