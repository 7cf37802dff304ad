"""`sopskit verify`: native verification of many files in one process.

Directories are walked for files that look like sops files (by content, not name); each
file is read once. A file that cannot be read, resolves outside the repository or does not
parse is a failed report, not an exception, so one bad file never hides the others.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from sopskit.engine import paths
from sopskit.errors import ExitCode, SopskitError, UnsafePathError
from sopskit.fsio import TEMP_PREFIX
from sopskit.identity.model import Identities
from sopskit.sopsfile.document import detect_format, looks_like_sops, orphan_ciphertext_line
from sopskit.sopsfile.model import Format
from sopskit.sopsfile.verify import Problem, VerifyReport, verify_bytes

_SKIP_DIRS = {".git", ".venv", "node_modules", "__pycache__"}
Item = tuple[str, Path, bytes] | tuple[str, SopskitError]


def expand(repo: Path, given: Iterable[Path], *, skip_non_sops: bool = False) -> Iterator[Item]:
    """(shown path, absolute path, content) per file, or (shown, error) when unreadable.
    With `skip_non_sops`, a named file without sops metadata is left out, as a directory's
    are (a pre-commit hook passes every staged file; the content decides, not the name)."""
    for path in given:
        try:
            absolute = paths.target(repo, path)
            if absolute.is_dir():
                yield from _sops_files(repo, absolute)
                continue
            shown = paths.display(repo, absolute)
            data = paths.read_input(absolute, shown=shown)
            if not skip_non_sops or _is_sops(data, absolute.name) \
                    or _holds_ciphertext(data, absolute.name):
                yield shown, absolute, data
        except SopskitError as exc:
            yield str(path), exc


def _is_sops(data: bytes, name: str) -> bool:
    return looks_like_sops(data, detect_format(name))


def _holds_ciphertext(data: bytes, name: str) -> bool:
    """A YAML/JSON/dotenv/INI file holding a sops ciphertext without sops metadata: a sops
    file that lost it. verify fails it (found in directories and among named files alike)."""
    return orphan_ciphertext_line(data, detect_format(name)) is not None


def _sops_files(repo: Path, root: Path) -> Iterator[Item]:
    """Every sops file under `root` (resolved, inside `repo`), each read once. Paths are
    built as strings: this loop runs once per file of a whole repository."""
    base = str(repo.resolve()) + os.sep
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for name in sorted(filenames):
            if name.startswith(TEMP_PREFIX):
                continue  # an interrupted sopskit's temp file, not a file of the repository
            full = os.path.join(dirpath, name)
            data = paths.read_if_small(full)
            if data is not None and (_is_sops(data, name) or _holds_ciphertext(data, name)):
                shown = full[len(base):] if full.startswith(base) else full
                yield shown.replace(os.sep, "/"), Path(full), data


OPERATIONAL_CHECKS = frozenset({"read", "path"})


def outcome(reports: list[VerifyReport]) -> ExitCode:
    """3 when a file could not be read at all (the tool could not do its job), else 1 when
    any file failed verification, else 0."""
    failed = [r for r in reports if not r.ok]
    if any(p.check in OPERATIONAL_CHECKS for r in failed for p in r.problems):
        return ExitCode.OPERATIONAL
    return ExitCode.FINDINGS if failed else ExitCode.OK


def verify_paths(repo: Path, given: Iterable[Path], identities: Identities, *,
                 require_mac: bool = False, input_type: Format | None = None,
                 skip_non_sops: bool = False) -> list[VerifyReport]:
    """One report per file, in the order given (directories: sops files found inside);
    `input_type` overrides the format the extension implies (sops' --input-type)."""
    reports = []
    for item in expand(repo, given, skip_non_sops=skip_non_sops):
        if len(item) == 2:
            shown, exc = item
            check = "path" if isinstance(exc, UnsafePathError) else "read"
            reports.append(VerifyReport(shown, False, False, [Problem(check, exc.message)]))
            continue
        shown, absolute, data = item
        reports.append(verify_bytes(data, path=shown, fmt=detect_format(absolute.name, input_type),
                                    identities=identities, require_mac=require_mac))
    return reports
