"""Data-key ages from git history: when each sops file's data key last changed.

sops records no data-key age (`lastmodified` changes on every edit), so the age is read from
history: the newest commit in which the file's data key changed, following the file through
renames (`git mv` keeps the data key, so it must not reset the age). History is read once per
run (`gitio.log_changes`: one `git log --raw -M`; only the new commits when the cache under
`.git/` still holds the rest, `logcache`), and blobs are fetched by id in a few
`cat-file --batch` calls.

Whether a commit changed the data key:
- exact: with an identity that opens both versions, the two data keys are compared;
- inferred (no key): two versions that share any ciphertext share the data key. `edit` and
  `set` keep every wrapped data key (`enc`) and re-use the IV of unchanged values, `updatekeys`
  re-wraps the same key (every `enc` changes) but leaves values and MAC alone (sops-format.md
  1.2, 3.5, 3.7); only `rotate` or a fresh `encrypt` (3.6) makes a new key, and then every
  wrapped key, value and the MAC are new ciphertext. A changed set of value ciphertexts alone
  is no proof: `sops set` on a one-value file re-encrypts that value under the same key, and its
  `enc` blobs stay as they were.
Adding the file (or encrypting a plaintext version) is where its first data key was made.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sopskit.errors import NoIdentityError, SopskitError
from sopskit.gitio import ZERO, Commit, FileChange, blob_sizes, git, read_blobs, shallow_roots
from sopskit.history.logcache import head_history
from sopskit.identity.model import Identities
from sopskit.sopsfile.datakey import recover_data_key
from sopskit.sopsfile.document import detect_format, parse

EXACT, INFERRED = "exact", "inferred"
_ADDED = "the file was added here"
_FIRST_WINDOW = 4  # changes per file read in the first blob batch; doubled each round
_PAIR_MAX = 4 << 20  # a deleted blob larger than this is no renamed sops file: not read

# Every ciphertext a sops file holds, whatever its store: ENC[...] values (the MAC included)
# and the armored wrapped data keys (YAML block scalars, JSON/dotenv/INI `\n` escapes).
_ENC = re.compile(rb"ENC\[AES256_GCM,data:[A-Za-z0-9+/=]*,iv:[A-Za-z0-9+/=]+,"
                  rb"tag:[A-Za-z0-9+/=]+,type:[a-z]+\]")
_ARMOR = re.compile(rb"-----BEGIN (AGE ENCRYPTED FILE|PGP MESSAGE)-----(.*?)"
                    rb"-----END \1-----", re.DOTALL)
_ESCAPED_NEWLINE = re.compile(rb"\\+[nr]")
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/=]")


@dataclass(frozen=True)
class KeyAge:
    """When the data key of `path` was made, as far as history says."""

    path: str
    commit: str
    time: int  # committer time of `commit`, seconds since the epoch
    method: str  # EXACT (data keys compared) or INFERRED
    reason: str  # how the commit was found, in words
    at_least: bool = False  # history ends before the key was made (shallow clone)
    path_then: str = ""  # the file's name in `commit` when it was renamed since

    def days(self, now: datetime) -> int:
        return (now - datetime.fromtimestamp(self.time, UTC)).days

    def describe(self) -> str:
        """`in commit abc123 (inferred: ...; called x.yaml then)`."""
        then = f"; called {self.path_then} then" if self.path_then else ""
        return f"in commit {self.commit[:12]} ({self.method}: {self.reason}{then})"


@dataclass(frozen=True)
class Step:
    """One commit's change to a file's lineage (newest first in a lineage)."""

    commit: str
    time: int
    status: str
    path: str
    old_blob: str
    new_blob: str


# (commit, an added file) -> the file deleted in that commit it was renamed from, or None
Pairing = Callable[[Commit, FileChange], FileChange | None]


def lineages(commits: list[Commit], paths: list[str], tips: dict[str, str] | None = None,
             pair: Pairing | None = None) -> dict[str, list[Step]]:
    """path -> the changes of that file, newest first, followed through renames back to the
    commit that added it. `commits` newest first (as `log_changes` gives them).

    `tips`: path -> its blob at HEAD. A lineage then follows the content: a change counts
    only when it made the version the lineage holds at that point (its `new_blob`), which
    leaves out a side branch's change a merge did not take (`git merge -s ours`) and keeps
    one it did take, whatever the commit dates (git log lists merged branches by date, and
    the cache puts new commits first). A lineage the content cannot be followed through (a
    merge that resolved a conflict made a blob no commit lists) is read as before, by name
    alone.

    `pair`: a rename git did not see (`git mv` and `sops updatekeys` in one commit leave
    too little text in common for `-M`: an add and a delete) is followed when `pair` names
    the deleted file the added one came from."""
    found = _follow(commits, paths, tips or {}, pair)
    broken = [p for p in paths if tips and p in tips and not _complete(found[p])]
    if broken:
        found.update(_follow(commits, broken, {}, pair))
    return found


def _complete(steps: list[Step]) -> bool:
    return bool(steps) and (steps[-1].status == "A" or steps[-1].old_blob == ZERO)


def _follow(commits: list[Commit], paths: list[str], tips: dict[str, str],
            pair: Pairing | None) -> dict[str, list[Step]]:
    out: dict[str, list[Step]] = {p: [] for p in paths}
    expect: dict[str, str | None] = {p: tips.get(p) for p in paths}
    wanted: dict[str, list[str]] = {}
    for p in paths:
        wanted.setdefault(p, []).append(p)
    for commit in commits:
        if not wanted:
            break
        moves: list[tuple[str, str, list[str]]] = []
        for listed in commit.changes:
            heads = wanted.get(listed.path)
            if not heads or listed.status == "D":
                continue
            taken = [h for h in heads if expect[h] in (None, listed.new_blob)]
            source = pair(commit, listed) if taken and pair and listed.status == "A" else None
            ch = listed if source is None else FileChange(  # an unseen rename, as R
                "R", source.path, listed.path, source.old_blob, listed.new_blob)
            for head in taken:
                out[head].append(Step(commit.sha, commit.time, ch.status, ch.path,
                                      ch.old_blob, ch.new_blob))
                if expect[head] is not None:
                    expect[head] = ch.old_blob
            if taken and ch.status in "ARC":
                moves.append((ch.path, ch.old_path if ch.status in "RC" else "", taken))
        for name, before, heads in moves:  # after the commit: its own adds are not old names
            rest = [h for h in wanted.get(name, []) if h not in heads]
            if rest:
                wanted[name] = rest
            else:
                wanted.pop(name, None)
            if before:
                wanted.setdefault(before, []).extend(heads)
    return out


def head_blobs(repo: Path) -> dict[str, str]:
    """path -> blob id of every file in HEAD's tree (one `git ls-tree -r -z`)."""
    out: dict[str, str] = {}
    for entry in git(repo, "ls-tree", "-r", "-z", "--full-tree", "HEAD").split(b"\0"):
        meta, tab, name = entry.partition(b"\t")
        fields = meta.split()
        if tab and len(fields) == 3 and fields[1] == b"blob":
            out[name.decode("utf-8", "surrogateescape")] = fields[2].decode("ascii")
    return out


def ciphertexts(blob: bytes) -> frozenset[bytes]:
    """The ciphertexts in a sops file's bytes: ENC values and wrapped data keys (base64
    bodies, normalised across stores)."""
    found = set(_ENC.findall(blob))
    for match in _ARMOR.finditer(blob):
        body = _NOT_BASE64.sub(b"", _ESCAPED_NEWLINE.sub(b"", match.group(2)))
        if body:
            found.add(body)
    return frozenset(found)


class _Versions:
    """Blob contents, ciphertexts and data keys, each fetched or computed once."""

    def __init__(self, repo: Path, identities: Identities | None) -> None:
        self.repo, self.identities = repo, identities
        self.data: dict[str, bytes] = {}
        self._texts: dict[str, frozenset[bytes]] = {}
        self._keys: dict[str, bytes | None] = {}
        # commits whose deleted files could not be read: an add there may be a move of one
        self.unreadable_deletes: set[str] = set()
        self._deleted: dict[str, list[FileChange]] = {}  # commit -> its deletions

    def deleted(self, commit: Commit) -> list[FileChange]:
        """The files `commit` deleted, listed once per commit (a first commit that adds
        thousands of files asked for each of its sops files: quadratic)."""
        if commit.sha not in self._deleted:
            self._deleted[commit.sha] = [c for c in commit.changes
                                         if c.status == "D" and c.old_blob != ZERO]
        return self._deleted[commit.sha]

    def fetch(self, ids: set[str]) -> None:
        missing = sorted(i for i in ids if i not in self.data and i != ZERO)
        # a clone may lack old blobs (partial or damaged): such a version shares no
        # ciphertext with anything, so the age is decided without it, never an error
        self.data.update(read_blobs(self.repo, [(i, i) for i in missing], missing_ok=True))

    def renamed_from(self, commit: Commit, added: FileChange) -> FileChange | None:
        """The file deleted in `commit` that `added` shares ciphertext with: the same sops
        file under a new name (its data key kept), which git did not pair."""
        gone = self.deleted(commit)
        if not gone:
            return None
        sizes = blob_sizes(self.repo, [c.old_blob for c in gone if c.old_blob not in self.data])
        gone = [c for c in gone if c.old_blob in self.data or sizes.get(c.old_blob, 0) <= _PAIR_MAX]
        self.fetch({added.new_blob, *(c.old_blob for c in gone)})
        if any(c.old_blob not in self.data for c in gone):
            self.unreadable_deletes.add(commit.sha)
        mine = self.ciphertexts(added.new_blob)
        return next((c for c in gone if mine & self.ciphertexts(c.old_blob)), None)

    def ciphertexts(self, blob: str) -> frozenset[bytes]:
        if blob not in self._texts:
            self._texts[blob] = ciphertexts(self.data.get(blob, b""))
        return self._texts[blob]

    def key(self, blob: str, path: str) -> bytes | None:
        ids = self.identities
        if ids is None or not (ids.age or ids.gnupghome):
            return None
        if blob not in self._keys:
            try:
                doc = parse(self.data.get(blob, b""), path=path, fmt=detect_format(path))
                self._keys[blob] = recover_data_key(doc.metadata, ids, path=path)
            except (NoIdentityError, SopskitError):
                self._keys[blob] = None
        return self._keys[blob]


def _made_here(versions: _Versions, step: Step, head: str) -> tuple[str, str] | None:
    """(method, reason) when `step` made a new data key, else None."""
    if step.old_blob == step.new_blob:
        return None  # a pure rename or mode change
    old, new = versions.ciphertexts(step.old_blob), versions.ciphertexts(step.new_blob)
    if old & new:
        return None  # a ciphertext in common: the same data key (no unwrap needed)
    old_key = versions.key(step.old_blob, step.path)
    new_key = versions.key(step.new_blob, head)
    if old_key is not None and new_key is not None:
        return (EXACT, "data keys compared") if old_key != new_key else None
    if not old:
        return INFERRED, "the file became a sops file here"
    return INFERRED, "no wrapped data key, value or MAC in common with the version before"


def _added(versions: _Versions, step: Step, head: str, shallow: frozenset[str]) -> KeyAge:
    method = EXACT if versions.key(step.new_blob, head) is not None else INFERRED
    if step.commit in shallow:
        return KeyAge(head, step.commit, step.time, method,
                      "the history of this shallow clone starts here", True, _then(step, head))
    if step.commit in versions.unreadable_deletes:
        return KeyAge(head, step.commit, step.time, method, "added where a file whose version "
                      "is missing from the object store was deleted (perhaps this one, moved)",
                      True, _then(step, head))
    return KeyAge(head, step.commit, step.time, method, _ADDED, False, _then(step, head))


def _then(step: Step, head: str) -> str:
    return step.path if step.path != head else ""


def _decide(versions: _Versions, steps: list[Step], head: str,
            shallow: frozenset[str]) -> Iterator[KeyAge | None]:
    """For each step in turn: the age when this step decides it, else None.

    A step that brings back an earlier version (`git revert` of a rotation, a checkout of an
    old file) makes no key: the walk goes on from where that version was made."""
    i = 0
    while i < len(steps):
        step = steps[i]
        versions.fetch({step.old_blob, step.new_blob})  # after a jump: not in the batch
        if step.status == "A" or step.old_blob == ZERO:
            yield _added(versions, step, head, shallow)
            return
        if step.old_blob != ZERO and step.old_blob not in versions.data:
            # the version before is gone from this clone (pruned, damaged): whether the key
            # changed here cannot be told, and it is at least as old as this step
            yield KeyAge(head, step.commit, step.time, INFERRED, "the version before is "
                         "missing from this clone's object store", True, _then(step, head))
            return
        made = _made_here(versions, step, head)
        if made is None:
            yield None
            i += 1
            continue
        back = next((j for j in range(i + 1, len(steps))
                     if steps[j].new_blob == step.new_blob), None)
        if back is None:
            yield KeyAge(head, step.commit, step.time, made[0], made[1], False,
                         _then(step, head))
            return
        yield None
        i = back


def key_ages(repo: Path, paths: list[str], identities: Identities | None,
             commits: list[Commit] | None = None) -> dict[str, KeyAge]:
    """path -> when its data key last changed, for the committed sops files among `paths`
    (`commits`: the history already read by the caller, newest first)."""
    history = commits if commits is not None else head_history(repo)
    tips = head_blobs(repo) if history else {}
    versions = _Versions(repo, identities)
    chains = {p: s for p, s in lineages(history, paths, tips, versions.renamed_from).items()
              if s}
    if not chains:
        return {}
    shallow = shallow_roots(repo)
    found: dict[str, KeyAge] = {}
    deciders = {p: _decide(versions, s, p, shallow) for p, s in chains.items()}
    start, window = 0, _FIRST_WINDOW
    while pending := [p for p in chains if p not in found and start < len(chains[p])]:
        versions.fetch({b for p in pending for s in chains[p][start:start + window]
                        for b in (s.old_blob, s.new_blob)})
        for p in pending:
            for _ in chains[p][start:start + window]:
                age = next(deciders[p], None)
                if age is not None:
                    found[p] = age
                    break
        start, window = start + window, window * 2
    for p, steps in chains.items():
        if p not in found:  # history ran out with no add (cannot happen with --root)
            last = steps[-1]
            found[p] = KeyAge(p, last.commit, last.time, INFERRED, "the oldest change read",
                              True, _then(last, p))
    return _copies(versions, chains, found, shallow)


def _copies(versions: _Versions, chains: dict[str, list[Step]], found: dict[str, KeyAge],
            shallow: frozenset[str]) -> dict[str, KeyAge]:
    """Ages of files added as a copy of another (`cp a.sops.yaml b.sops.yaml`, then edited:
    a common way to start a new app's Secret) made the source's: the copy holds the same
    data key, so its key is as old as the source's was at the copy. Found key-less by a
    ciphertext in common with an older version of another file of `chains` (a copy of a
    file deleted since is not seen: the age stays that of the add)."""
    added = {p: a for p, a in found.items() if a.reason == _ADDED and not a.at_least}
    if not added or len(chains) < 2:
        return found
    # a source is older than the copy: versions newer than every add are never one (a
    # repository whose files were all added in its first commit reads no blob here)
    latest = max(a.time for a in added.values())
    older = [(path, i, step) for path, steps in chains.items()
             for i, step in enumerate(steps) if step.time < latest]
    if not older:
        return found
    first = min(step.time for _, _, step in older)
    copies = {p: next(s for s in chains[p] if s.commit == a.commit)
              for p, a in added.items() if a.time > first}  # the adds that may be copies
    versions.fetch({step.new_blob for _, _, step in older}
                   | {step.new_blob for step in copies.values()})
    owners: dict[bytes, list[tuple[int, str, int]]] = {}  # ciphertext -> (time, path, step)
    for path, i, step in older:
        for text in versions.ciphertexts(step.new_blob):
            owners.setdefault(text, []).append((step.time, path, i))
    out = dict(found)
    done: dict[tuple[str, int], KeyAge] = {}

    def age_at(path: str, index: int, depth: int) -> KeyAge:
        """The age of the data key `path` held after steps[index]."""
        key = (path, index)
        if key not in done:
            age = next((a for a in _decide(versions, chains[path][index:], path, shallow)
                        if a is not None), found[path])
            done[key] = copied(path, age, depth)
        return done[key]

    def copied(path: str, age: KeyAge, depth: int) -> KeyAge:
        if age.reason != _ADDED or age.at_least or depth > len(chains) or age.time <= first:
            return age
        step = next(s for s in chains[path] if s.commit == age.commit)
        versions.fetch({step.new_blob})  # read above unless reached through a source
        sources = sorted((t, other, i) for text in versions.ciphertexts(step.new_blob)
                         for t, other, i in owners.get(text, ())
                         if other != path and t < step.time)
        if not sources:
            return age
        _, source, index = sources[0]  # the oldest version it shares a ciphertext with
        base = age_at(source, index, depth + 1)
        return KeyAge(path, base.commit, base.time, base.method,
                      f"added in commit {age.commit[:12]} as a copy of {source} (same data "
                      f"key); that key: {base.reason}", base.at_least,
                      base.path_then)

    for p in copies:
        out[p] = copied(p, added[p], 0)
    return out
