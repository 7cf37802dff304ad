"""`audit --history`: plaintext that any commit of any branch or tag ever held.

Every blob that a walked commit wrote is scanned once, by id, with the tree audit's own
detectors (`audit.scan.scan_bytes`, inline allows included). A value is one finding however
many blobs hold it: the first commit (oldest) that introduced it and the path there, and
whether a blob of today's tree (HEAD) still holds it. With a key that opens today's sops
files, a historic plaintext value that is today's value of an encrypted secret is
`plaintext-still-in-use`: rotating the file's keys does not hide what a clone can read.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
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
    blobs: set[str]
    digest: str | None


def scan_history(repo: Path, settings: ScanSettings, *, since: str | None = None,
                 identities: Identities | None = None, jobs: int | None = None) -> HistoryScan:
    """One finding per plaintext value ever committed (inline allows applied, no
    baseline), oldest introduction first."""
    # vendored trees are skipped by the scan anyway (skip_reason); leaving them to git
    # spares reading and parsing their changes (getsops/sops: 50 MB of log, 44,000 blobs)
    history = reader.walk(repo, since=since, skip_dirs=VENDORED)
    first = history.blobs()
    out = HistoryScan([], commits=history.commits, notes=list(history.notes))
    todo = _in_scope(repo, first, settings, out.skipped)
    seen: dict[tuple[str, str], _Seen] = {}
    for blob, result in _scan(repo, todo, first, settings, jobs):
        if result.skipped:
            out.skipped[result.skipped] = out.skipped.get(result.skipped, 0) + 1
            continue
        out.blobs_scanned += 1
        version = first[blob]
        for f in result.findings:
            if f.category != "plaintext":
                continue  # structure checks of old sops files are not history's concern
            key = (f.rule, f.fingerprint)
            if key in seen:
                seen[key].blobs.add(blob)
            else:
                seen[key] = _Seen(replace(f, commit=version.commit), {blob},
                                  result.digests.get(f.fingerprint))
    head = set(reader.tree(repo).values())
    found = [replace(s.finding, in_tree=bool(s.blobs & head)) for s in seen.values()]
    if identities is not None and not identities.empty:  # Identities is always truthy
        found += still_in_use(repo, list(seen.values()), identities)
    else:
        out.notes.append("plaintext-still-in-use not checked: no identity opens today's "
                         "sops files (pass --identity)")
    out.findings = sorted(found, key=Finding.sort_key)
    return out


def _in_scope(repo: Path, first: dict[str, reader.Version], settings: ScanSettings,
              skipped: dict[str, int]) -> list[tuple[str, int]]:
    """(blob, size) of the blobs to scan (vendored, too large and missing ones left out)."""
    sizes = gitio.blob_sizes(repo, sorted(first))
    todo = []
    for blob, version in first.items():
        reason = skip_reason(version.path, sizes.get(blob, 0), settings)
        if reason is not None:
            skipped[reason] = skipped.get(reason, 0) + 1
        elif blob in sizes:
            todo.append((blob, sizes[blob]))
    return todo


def _batches(todo: list[tuple[str, int]]) -> Iterator[list[str]]:
    """Blob ids in read batches of at most _READ_BATCH blobs and _READ_BYTES bytes."""
    batch: list[str] = []
    size = 0
    for blob, n in todo:
        if batch and (len(batch) >= _READ_BATCH or size + n > _READ_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(blob)
        size += n
    if batch:
        yield batch


def _scan(repo: Path, todo: list[tuple[str, int]], first: dict[str, reader.Version],
          settings: ScanSettings, jobs: int | None) -> Iterator[tuple[str, FileResult]]:
    """(blob, result) for every blob, read in batches, scanned in workers when many. A
    blob of the same shape as one already scanned (same path, same bytes but for sops
    ciphertext: `shape`) takes that one's result: most versions of a sops file differ
    from the last only in ciphertext, and the detectors never read ciphertext."""
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    parallel = workers > 1 and (jobs is not None or len(todo) >= PARALLEL_MIN_BLOBS)
    context = multiprocessing.get_context("fork" if os.name == "posix" else None)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context) if parallel else None
    done: dict[bytes, FileResult] = {}
    try:
        for batch in _batches(todo):
            data = gitio.read_blobs(repo, [(b, b) for b in batch])
            shapes = {b: shape(first[b].path, data[b]) for b in batch}
            fresh: dict[bytes, tuple[str, str, bytes]] = {}
            for b in batch:
                if shapes[b] not in done:
                    fresh.setdefault(shapes[b], (b, first[b].path, data[b]))
            items = list(fresh.values())
            parts = ([scan_blobs(settings, items)] if pool is None
                     else pool.map(scan_blobs, [settings] * workers, _deal(items, workers)))
            for part in parts:
                for blob, result in part:
                    done[shapes[blob]] = result
            for b in batch:
                yield b, done[shapes[b]]
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


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
    masked = _CIPHERTEXT.sub(_mask, data) if b"ENC[" in data or b"-----BEGIN" in data else data
    return hashlib.sha256(path.encode("utf-8", "surrogateescape") + b"\0" + masked).digest()


def _deal(items: list[tuple[str, str, bytes]],
          workers: int) -> list[list[tuple[str, str, bytes]]]:
    """The batch dealt round-robin, one hand per worker: the costly blobs (those with
    findings, each new secret a ~20 ms scrypt fingerprint) come in runs (one commit adds
    a whole directory), and consecutive slices gave a whole run to one worker while the
    others sat idle."""
    return [items[i::workers] for i in range(workers) if items[i::workers]]


def scan_blobs(settings: ScanSettings,
               items: list[tuple[str, str, bytes]]) -> list[tuple[str, FileResult]]:
    """Scan (blob, path, content) items: a worker's unit of work."""
    return [(blob, scan_bytes(path, data, settings)) for blob, path, data in items]


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
