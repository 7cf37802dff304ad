"""Run one fuzz case through what `verify`, `decrypt` and `audit` do with a file, in-process.

A case passes when every step either succeeds or raises a SopskitError whose exit code is
1, 2 or 3 (what the CLI prints as one line). Anything else (a Python exception that the CLI
would report as "internal error", exit 4, or an InternalError) fails, and so does a case
that uses more than `CPU_LIMIT` seconds of CPU: a process-time timer (ITIMER_PROF), not the
wall clock, so a loaded machine cannot fail it.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from sopskit.audit.scan import ScanSettings, scan_bytes
from sopskit.engine import write_check
from sopskit.errors import ExitCode, SopskitError
from sopskit.identity.model import AgeIdentity, Identities
from sopskit.sopsfile.document import SopsDocument
from sopskit.sopsfile.verify import verify_bytes
from tests.fuzz import mutator

CPU_LIMIT = 5.0
_EXT = {"yaml": "yaml", "json": "json", "dotenv": "env", "ini": "ini", "binary": "bin"}


class CaseTooSlow(Exception):
    pass


def identities() -> Identities:
    secret = (mutator.VECTORS / "test-key.txt").read_text().strip()
    import pyrage

    public = str(pyrage.x25519.Identity.from_str(secret).to_public())
    return Identities(age=(AgeIdentity(secret, public, "tests/vectors/fuzz/test-key.txt"),))


@contextmanager
def cpu_limit(seconds: float) -> Iterator[None]:
    def expired(signum: int, frame: FrameType | None) -> None:
        raise CaseTooSlow(f"more than {seconds:g} s of CPU")

    previous = signal.signal(signal.SIGPROF, expired)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def run_case(data: bytes, fmt: str, ids: Identities) -> None:
    """verify (key-less structure and, with the key, MAC), decrypt, and the audit scan."""
    name = f"case.{_EXT[fmt]}"
    try:
        verify_bytes(data, path=name, fmt=fmt, identities=ids)  # type: ignore[arg-type]
        doc = _decrypt(data, name, fmt, ids)
        if doc is not None:
            doc.walk()
        scan_bytes(name, data, ScanSettings())
    except SopskitError as exc:
        if exc.exit_code == ExitCode.INTERNAL:
            raise


def _decrypt(data: bytes, name: str, fmt: str, ids: Identities) -> SopsDocument | None:
    try:
        done = write_check.check_bytes(data, path=name, fmt=fmt,  # type: ignore[arg-type]
                                 identities=ids, expect=write_check.Expect(require_key=True))
    except SopskitError as exc:
        if exc.exit_code == ExitCode.INTERNAL:
            raise
        return None
    assert done.data_key is not None
    write_check.decrypt(done.document, done.data_key)
    return done.document


@dataclass
class Figures:
    cases: int = 0
    cpu_seconds: float = 0.0
    slowest: float = 0.0
    slowest_case: int = -1
    failures: list[str] = field(default_factory=list)


def fuzz(seed: int, cases: int, *, start: int = 0, stop_after: int = 5,
         out: Path | None = None) -> Figures:
    """Run cases `start..start+cases` of run `seed`; failures name seed and case number
    (and are written under `out` for replay when given)."""
    pool, ids, figures = mutator.seeds(), identities(), Figures()
    for n in range(start, start + cases):
        base, data = mutator.case(seed, n, pool)
        began = time.process_time()
        try:
            with cpu_limit(CPU_LIMIT):
                run_case(data, base.fmt, ids)
        except Exception as exc:  # every escape is a finding of the fuzzer
            figures.failures.append(f"seed {seed} case {n} ({base.name}): "
                                    f"{type(exc).__name__}: {str(exc)[:200]}")
            if out is not None:
                (out / f"fail-{seed}-{n}.{_EXT[base.fmt]}").write_bytes(data)
        spent = time.process_time() - began
        figures.cases += 1
        figures.cpu_seconds += spent
        if spent > figures.slowest:
            figures.slowest, figures.slowest_case = spent, n
        if len(figures.failures) >= stop_after:
            break
    return figures
