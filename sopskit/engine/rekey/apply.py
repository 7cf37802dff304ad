"""Carrying out a plan: each file through the engine's verified safe writes, N at a time.

Workers are threads: the expensive part of each file is the sops child process, during
which the GIL is free (docs/benchmarks.md compares). The main thread alone writes the
journal and reports progress. One failing file (no identity, a sops error) is recorded and
the others go on. Ctrl-C cancels the files not started, lets the running ones finish
their atomic replace (a few hundred ms), and raises Interrupted; `--resume` does the rest.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sopskit.engine import keys, paths
from sopskit.engine.rekey.journal import Journal
from sopskit.engine.rekey.plan import FilePlan, digest
from sopskit.engine.rekey.proof import Expected, FileProof, prove
from sopskit.engine.rekey.reencrypt import reencrypt_file
from sopskit.errors import Interrupted, NoIdentityError, SopskitError, UsageError
from sopskit.identity.model import Identities
from sopskit.sops.runner import Sops
from sopskit.sopsfile.datakey import recover_data_key
from sopskit.sopsfile.document import SopsDocument, parse

Status = Literal["done", "failed", "blocked", "skipped"]


@dataclass(frozen=True)
class Outcome:
    """What happened to one file."""

    path: str
    action: str
    status: Status
    error: str | None = None
    proof: FileProof | None = None
    note: str | None = None  # e.g. "written by the interrupted run"

    def as_record(self) -> dict[str, Any]:
        """The journal line (and the JSON output entry): no secret in it."""
        return {"kind": "file", "path": self.path, "action": self.action,
                "status": self.status, "error": self.error, "note": self.note,
                "proof": self.proof.as_dict() if self.proof else None}


@dataclass(frozen=True)
class Context:
    """Everything a worker needs, shared read-only between threads."""

    repo: Path
    sops: Sops
    identities: Identities
    allow_less_encryption: bool = False
    notes: dict[str, str] = field(default_factory=dict)  # path -> note for the outcome


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)


def _write(fp: FilePlan, source: Path, doc: SopsDocument, old_key: bytes,
           ctx: Context) -> None:
    assert fp.rule is not None
    common: dict[str, Any] = {"repo": ctx.repo, "sops": ctx.sops, "identities": ctx.identities}
    if fp.action == "updatekeys":
        keys.updatekeys(source, fp.rule, **common)
    elif fp.action in ("updatekeys+rotate", "rotate"):
        keys.rekey_file(source, fp.rule, rotate_key=True, **common)
    elif fp.action == "re-encrypt":
        reencrypt_file(source, doc, old_key, fp.rule, sops=ctx.sops, identities=ctx.identities)


def _prepare(fp: FilePlan, source: Path, ctx: Context) -> tuple[SopsDocument, bytes | None]:
    data = paths.read_input(source, shown=fp.path)
    if digest(data) != fp.digest:
        raise UsageError("the file changed after it was planned; run the rekey again",
                         path=fp.path)
    doc = parse(data, path=fp.path, fmt=fp.format)
    try:
        return doc, recover_data_key(doc.metadata, ctx.identities, path=fp.path)
    except NoIdentityError:
        if fp.changes:
            raise
        return doc, None


def _not_applied(fp: FilePlan, ctx: Context) -> tuple[Status, str] | None:
    """Why a file is not touched at all, if it is not."""
    if fp.action == "error":
        return "failed", "; ".join(fp.reasons)
    if fp.action == "unmanaged":
        return "skipped", "; ".join(fp.reasons)
    if fp.less_encrypted and not ctx.allow_less_encryption:
        return "blocked", (f"re-encryption would leave {len(fp.less_encrypted)} encrypted "
                           "value(s) in plaintext; pass --allow-less-encryption to do it")
    return None


def _failure(fp: FilePlan, exc: Exception) -> str:
    """One line for what went wrong with this file; never a value."""
    if isinstance(exc, SopskitError):
        return str(exc)
    if isinstance(exc, OSError):  # the filesystem refused (read-only, full)
        return f"{fp.path}: cannot write it ({exc.strerror or type(exc).__name__})"
    return f"{fp.path}: internal error ({type(exc).__name__}); please report it"


def _apply_and_prove(fp: FilePlan, ctx: Context) -> tuple[Status, str | None, FileProof]:
    source = ctx.repo / fp.path
    doc, old_key = _prepare(fp, source, ctx)
    if fp.changes:
        assert old_key is not None
        _write(fp, source, doc, old_key, ctx)
    rule = fp.rule
    expected = Expected(fp.wanted, fp.removed, old_key if fp.rotates else None,
                        rule.key_groups if rule else (), rule.shamir_threshold if rule else None)
    proof = prove(source, fp.path, fp.format, expected, ctx.identities)
    if proof.ok:
        return "done", None, proof
    return "failed", "the proof failed after the write: " + _why(proof), proof


def apply_file(fp: FilePlan, ctx: Context) -> Outcome:
    """Carry out one file's plan and prove the result; never raises for a file's failure
    (a bug in one file must not stop the others either)."""
    note = ctx.notes.get(fp.path)
    skipped = _not_applied(fp, ctx)
    if skipped is not None:
        return Outcome(fp.path, fp.action, skipped[0], skipped[1], note=note)
    try:
        status, error, proof = _apply_and_prove(fp, ctx)
    except Exception as exc:  # reported per file, as one line (KeyboardInterrupt passes)
        return Outcome(fp.path, fp.action, "failed", _failure(fp, exc), note=note)
    return Outcome(fp.path, fp.action, status, error, proof, note)


def _why(proof: FileProof) -> str:
    reasons = [*proof.problems]
    if not proof.recipients_ok:
        reasons.append("recipients differ from the wanted ones")
    if proof.mac_ok is False:
        reasons.append("MAC does not verify")
    if proof.key_rotated is False:
        reasons.append("the data key did not change")
    reasons += [f"{r} can still decrypt" for r, v in proof.removed.items()
                if v == "STILL DECRYPTS"]
    return "; ".join(reasons)


def apply_plan(files: Iterable[FilePlan], ctx: Context, *, jobs: int,
               journal: Journal | None = None,
               on_outcome: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Run every file's plan with `jobs` worker threads; outcomes in completion order."""
    outcomes: list[Outcome] = []
    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="rekey")
    try:
        futures: list[Future[Outcome]] = [pool.submit(apply_file, fp, ctx) for fp in files]
        for future in as_completed(futures):
            outcome = future.result()
            if journal is not None:
                journal.record(outcome.as_record())
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
    except KeyboardInterrupt:
        pool.shutdown(wait=True, cancel_futures=True)
        raise Interrupted(f"interrupted after {len(outcomes)} file(s); every file is either "
                          "old or new and valid: `sopskit rekey --resume` finishes the rest"
                          ) from None
    except BaseException:  # e.g. the journal cannot be written: start no other file
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return outcomes
