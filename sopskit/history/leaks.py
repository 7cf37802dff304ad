"""`audit --history`: plaintext that any commit of any branch or tag ever held.

Every blob that a walked commit wrote is scanned once, by id, with the tree audit's own
detectors (`audit.scan.scan_bytes`, inline allows included). A value is one finding however
many blobs hold it: the first commit (oldest) that introduced it and the path there, and
whether a blob of today's tree (HEAD) still holds it. With a key that opens today's sops
files, a historic plaintext value that is today's value of an encrypted secret is
`plaintext-still-in-use`: rotating the file's keys does not hide what a clone can read.

Fingerprints: a value today's tree holds keeps the tree audit's (scrypt of the value), so
one baseline entry covers both audits; a value only history holds is fingerprinted by the
place that leaked it (`scan_bytes(located=commit)`: rule, commit, path, line, rank), which
reveals nothing of the value and costs no scrypt (docs/rules.md, "Fingerprints"). Values are
told apart in memory by their SHA-256 (`FileResult.digests`), never shown or stored.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path

from sopskit import gitio
from sopskit.audit.finding import Finding
from sopskit.audit.fingerprint import subject_fingerprint
from sopskit.audit.rules import rule
from sopskit.audit.scan import (
    VENDORED,
    FileResult,
    ScanSettings,
    scan_bytes,
    secret_digest,
    skip_reason,
)
from sopskit.errors import SopskitError
from sopskit.history import reader
from sopskit.history.sopsblobs import label, parse_sops
from sopskit.identity.model import Identities
from sopskit.sopsfile.datakey import recover_data_key
from sopskit.sopsfile.mac import cipher_for, plain_leaves

PARALLEL_MIN_BLOBS = 400
# 2 or 4 parts per worker (a worker that finishes early takes the next) measured no better
# than 1 on five histories, and each part costs two git starts (the small history: 15 %)
_PARTS_PER_WORKER = 1
_READ_BATCH = 2000  # blobs per `cat-file --batch`, and at most _READ_BYTES: bound the memory
_READ_BYTES = 64 << 20


@dataclass
class HistoryScan:
    findings: list[Finding]
    blobs_scanned: int = 0
    commits: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Seen:
    finding: Finding
    digest: str | None
    oldest: str  # the blob of the oldest commit found to hold the value
    in_tree: str | None = None  # the value's fingerprint, when today's tree holds it


@dataclass(frozen=True)
class _Item:
    """A blob to scan. `commit`: the oldest commit that wrote it, when today's tree does
    not hold it: a value found only there is fingerprinted by that place (see the module
    docstring); None for a blob of today's tree, fingerprinted as the tree audit does."""

    blob: str
    path: str  # where the oldest commit that wrote the blob put it
    commit: str | None


@dataclass
class _Part:
    """What a worker found in its blobs: only the blobs with findings come back."""

    scanned: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    found: list[tuple[str, list[Finding], dict[str, str]]] = field(default_factory=list)


def scan_history(repo: Path, settings: ScanSettings, *, since: str | None = None,
                 identities: Identities | None = None, jobs: int | None = None) -> HistoryScan:
    """One finding per plaintext value ever committed (inline allows applied, no
    baseline), oldest introduction first."""
    # vendored trees are skipped by the scan anyway (skip_reason): leaving them out of the
    # walk spares asking their sizes. No renames: a blob moved keeps its id, so the commit
    # that introduced it is the same with or without them, and finding them costs git time
    # (tests/history/test_history_walk.py).
    walked = reader.first_versions(repo, since=since, skip_dirs=VENDORED)
    first = walked.blobs
    out = HistoryScan([], commits=walked.commits, notes=walked.notes)
    order = {blob: i for i, blob in enumerate(first)}  # oldest introduction first
    head = set(reader.tree(repo).values())
    todo = _in_scope(first, head, settings, out.skipped)
    seen: dict[tuple[str, str], _Seen] = {}
    for part in _scan(repo, todo, settings, jobs):
        out.blobs_scanned += part.scanned
        for reason, n in part.skipped.items():
            out.skipped[reason] = out.skipped.get(reason, 0) + n
        for blob, findings, digests in part.found:
            for f in findings:
                if f.category != "plaintext":
                    continue  # structure checks of old sops files are not history's concern
                digest = digests.get(f.fingerprint)
                key = (f.rule, digest or f.fingerprint)  # one finding per value
                known = seen.get(key)
                if known is None:
                    known = seen[key] = _Seen(replace(f, commit=first[blob].commit), digest,
                                              blob)
                elif order[blob] < order[known.oldest]:
                    known.finding, known.oldest = replace(f, commit=first[blob].commit), blob
                if blob in head:  # scanned with the tree audit's fingerprints (_Item.commit)
                    known.in_tree = f.fingerprint
    ranked = sorted(seen.values(), key=lambda s: order[s.oldest])
    found = [replace(s.finding, in_tree=s.in_tree is not None,
                     fingerprint=s.in_tree or s.finding.fingerprint) for s in ranked]
    if identities is not None and not identities.empty:  # Identities is always truthy
        found += still_in_use(repo, ranked, identities)
    else:
        out.notes.append("plaintext-still-in-use not checked: no identity opens today's "
                         "sops files (pass --identity)")
    out.findings = sorted(found, key=Finding.sort_key)
    return out


def _in_scope(first: dict[str, reader.Version], head: set[str], settings: ScanSettings,
              skipped: dict[str, int]) -> list[_Item]:
    """The blobs to scan, in `first`'s order (vendored ones left out; the workers leave out
    the too large and the missing, whose sizes they ask)."""
    todo = []
    for blob, version in first.items():
        reason = skip_reason(version.path, 0, settings)
        if reason is not None:
            skipped[reason] = skipped.get(reason, 0) + 1
        else:
            todo.append(_Item(blob, version.path, None if blob in head else version.commit))
    return todo


def _batches(sized: list[tuple[_Item, int]]) -> Iterator[list[_Item]]:
    """Read batches of at most _READ_BATCH blobs and _READ_BYTES bytes."""
    batch: list[_Item] = []
    total = 0
    for item, size in sized:
        if batch and (len(batch) >= _READ_BATCH or total + size > _READ_BYTES):
            yield batch
            batch, total = [], 0
        batch.append(item)
        total += size
    if batch:
        yield batch


def _scan(repo: Path, todo: list[_Item], settings: ScanSettings,
          jobs: int | None) -> Iterator[_Part]:
    """The scan of every blob in parts, in worker processes when there are many. A worker
    reads its own blobs (its own `git cat-file`), so no content crosses a process
    boundary and reading overlaps scanning; the parts hold whole paths, so a worker
    sees every version of its files and `shape` spares the same ones as one process."""
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if workers <= 1 or (jobs is None and len(todo) < PARALLEL_MIN_BLOBS):
        yield scan_part(repo, settings, todo)
        return
    context = multiprocessing.get_context("fork" if os.name == "posix" else None)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(scan_part, repo, settings, part)
                   for part in _deal(todo, workers * _PARTS_PER_WORKER)]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def _deal(todo: list[_Item], parts: int) -> list[list[_Item]]:
    """`todo` in at most `parts` parts of about as many blobs, every version of a path in
    one part (in `todo`'s order), the paths with most versions placed first. By path, not
    in slices of `todo`: costly blobs come in runs (one commit adds a directory of Secrets
    or today's values, each a scrypt fingerprint), and slices gave a run to one worker."""
    by_path: dict[str, list[_Item]] = {}
    for item in todo:
        by_path.setdefault(item.path, []).append(item)
    loads = [0] * parts
    out: list[list[_Item]] = [[] for _ in range(parts)]
    for items in sorted(by_path.values(), key=len, reverse=True):
        i = loads.index(min(loads))
        out[i] += items
        loads[i] += len(items)
    return [part for part in out if part]


def _sized(repo: Path, settings: ScanSettings, items: list[_Item],
           part: _Part) -> list[tuple[_Item, int]]:
    """`items` with their sizes, without the blobs too large to scan (counted in `part`)
    and those missing from the object store (a partial or damaged clone)."""
    out = []
    for i in range(0, len(items), _READ_BATCH):
        chunk = items[i:i + _READ_BATCH]
        sizes = gitio.blob_sizes(repo, [item.blob for item in chunk])
        for item in chunk:
            size = sizes.get(item.blob)
            if size is None:
                continue
            reason = skip_reason(item.path, size, settings)
            if reason is not None:
                part.skipped[reason] = part.skipped.get(reason, 0) + 1
            else:
                out.append((item, size))
    return out


def scan_part(repo: Path, settings: ScanSettings, items: list[_Item]) -> _Part:
    """Read and scan `items`: a worker's unit of work. A blob of the same shape as one
    already scanned (same path, same bytes but for sops ciphertext: `shape`) takes that
    one's result: most versions of a sops file differ from the last only in ciphertext,
    and the detectors never read ciphertext."""
    part = _Part()
    done: dict[tuple[bytes, bool], FileResult] = {}
    for batch in _batches(_sized(repo, settings, items, part)):
        data = gitio.read_blobs(repo, [(item.blob, item.blob) for item in batch])
        for item in batch:
            content = data[item.blob]
            if not _maskable(content):
                # nothing `shape` masks: no other blob has its shape (blobs are distinct)
                result = scan_bytes(item.path, content, settings, located=item.commit)
            else:
                key = (shape(item.path, content), item.commit is None)
                if key not in done:
                    done[key] = scan_bytes(item.path, content, settings, located=item.commit)
                result = done[key]
            if result.skipped:
                part.skipped[result.skipped] = part.skipped.get(result.skipped, 0) + 1
                continue
            part.scanned += 1
            if result.findings:
                part.found.append((item.blob, result.findings, result.digests))
    return part


# sops' encrypted value (sops-format.md 2.1: ENC[AES256_GCM,data:,iv:,tag:,type:]) and the
# metadata sops rewrites on every edit: `lastmodified` (yaml/json `lastmodified`, dotenv/ini
# `sops_lastmodified`), the age armour and PGP messages of the wrapped data keys (rotate,
# updatekeys). Each is one token or a block of base64 lines (`\n` escapes in JSON); no
# detector reports ciphertext or a timestamp. A block admits nothing but base64 and
# whitespace, so no `key: value` line can hide inside one.
_CIPHERTEXT = re.compile(
    rb"ENC\[AES256_GCM,data:[A-Za-z0-9+/=]*,iv:[A-Za-z0-9+/=]+,tag:[A-Za-z0-9+/=]+,"
    rb"type:(?P<type>[a-z]+)\]"
    rb"|(?P<stamp>lastmodified\"?\s*[:=]\s*)\"?\d{4}-\d\d-\d\dT[0-9:.]+(?:Z|[+-]\d\d:\d\d)\"?"
    rb"|(?P<armour>-----BEGIN (?:AGE ENCRYPTED FILE|PGP MESSAGE)-----)(?:[A-Za-z0-9+/=]|\s|\\n)*?"
    rb"(?P<end>-----END (?:AGE ENCRYPTED FILE|PGP MESSAGE)-----)")


def _maskable(data: bytes) -> bool:
    """Whether `shape` masks anything in `data`."""
    return b"ENC[" in data or b"-----BEGIN" in data


def _mask(m: re.Match[bytes]) -> bytes:
    if m.group("type") is not None:
        return b"ENC[" + m.group("type") + b"]"
    if m.group("stamp") is not None:
        return m.group("stamp") + b"0"
    # a block keeps its line count: findings elsewhere keep their line numbers
    return m.group("armour") + b"\n" * m.group(0).count(b"\n") + m.group("end")


def shape(path: str, data: bytes) -> bytes:
    """What the detectors' result depends on: the path and the bytes with sops
    ciphertext, wrapped data keys and timestamps masked (a digest of it)."""
    masked = _CIPHERTEXT.sub(_mask, data) if _maskable(data) else data
    return hashlib.sha256(path.encode("utf-8", "surrogateescape") + b"\0" + masked).digest()


def today_values(repo: Path, identities: Identities) -> dict[str, tuple[str, str]]:
    """SHA-256 of every encrypted string value of today's sops files that our identities
    open -> (path, key path). In memory only."""
    out: dict[str, tuple[str, str]] = {}
    for path in reader.worktree_files(repo):
        target = repo / path
        try:
            if target.is_symlink() or not target.is_file() or target.stat().st_size > 8 << 20:
                continue
            doc = parse_sops(target.read_bytes(), path)
            if doc is None:
                continue
            cipher = cipher_for(doc, recover_data_key(doc.metadata, identities, path=path))
            for leaf, _, value in plain_leaves(doc, cipher):
                if leaf.encrypted and not leaf.is_comment and isinstance(value, str) and value:
                    out.setdefault(secret_digest(value), (path, leaf.key_path))
        except (OSError, SopskitError):
            continue
    return out


def still_in_use(repo: Path, seen: list[_Seen], identities: Identities) -> list[Finding]:
    values = today_values(repo, identities)
    r = rule("plaintext-still-in-use")
    out = []
    for s in seen:
        where = values.get(s.digest) if s.digest else None
        if where is None:
            continue
        path, key_path = where
        f = s.finding
        message = r.message(
            f"{label((0, key_path, 0))} holds the value committed in plaintext at "
            f"{f.path} in {f.commit[:12] if f.commit else '?'} ({f.rule}); rotate the value "
            "itself at its source, not only the file's keys, then `sopskit edit "
            f"{path}`")
        out.append(Finding(path, None, r.id, r.category, r.severity, message,
                           subject_fingerprint(r.id, path, key_path, f.fingerprint),
                           commit=f.commit, in_tree=True))
    return out
