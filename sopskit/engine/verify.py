"""`sopskit verify`: native verification of many files in one process.

Directories are walked for files that look like sops files (by content, not name); a file
that cannot be read, resolves outside the repository or does not parse is a failed report,
not an exception, so one bad file never hides the others.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from sopskit.engine import paths
from sopskit.errors import SopskitError, UnsafePathError
from sopskit.identity.model import Identities
from sopskit.sopsfile.document import detect_format, looks_like_sops
from sopskit.sopsfile.verify import Problem, VerifyReport, verify_file

_SKIP_DIRS = {".git", ".venv", "node_modules", "__pycache__"}


def expand(repo: Path, given: Iterable[Path]) -> Iterator[tuple[str, Path | SopskitError]]:
    """(shown path, absolute path or the error that stops us reading it) for each file."""
    for path in given:
        try:
            absolute = paths.target(repo, path)
        except SopskitError as exc:
            yield str(path), exc
            continue
        if absolute.is_dir():
            yield from ((paths.display(repo, f), f) for f in _sops_files(absolute))
        else:
            yield paths.display(repo, absolute), absolute


def _sops_files(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for name in sorted(filenames):
            path = Path(dirpath) / name
            try:
                if path.stat().st_size <= paths.MAX_INPUT_BYTES and looks_like_sops(
                        path.read_bytes(), detect_format(name)):
                    yield path
            except OSError:
                continue


def verify_paths(repo: Path, given: Iterable[Path], identities: Identities, *,
                 require_mac: bool = False) -> list[VerifyReport]:
    """One report per file, in the order given."""
    reports = []
    for shown, target in expand(repo, given):
        if isinstance(target, SopskitError):
            reports.append(_failed(shown, target))
            continue
        try:
            paths.check_size(target, shown=shown)
            report = verify_file(target, identities, require_mac=require_mac)
        except SopskitError as exc:
            reports.append(_failed(shown, exc))
            continue
        reports.append(VerifyReport(shown, report.ok, report.mac_checked, report.problems))
    return reports


def _failed(shown: str, exc: SopskitError) -> VerifyReport:
    check = "path" if isinstance(exc, UnsafePathError) else "read"
    return VerifyReport(shown, False, False, [Problem(check, exc.message, None, None)])
