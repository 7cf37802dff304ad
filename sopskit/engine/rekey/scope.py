"""Which files a rekey covers: every sops file found by its content (any store, any name),
under the given paths or the whole repository.

A leftover `.sopskit-*` temp file (a run killed between writing and renaming) is never a
file to rekey: it is removed by `cleanup_temps` when an apply resumes.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sopskit.engine.verify_files import expand
from sopskit.fsio import TEMP_PREFIX
from sopskit.sopsfile.document import detect_format, looks_like_sops
from sopskit.sopsfile.model import Format

STATE_DIR = ".sopskit"  # the journal's home outside git (journal.state_dir)


@dataclass(frozen=True)
class Found:
    """A file in scope: its bytes, or why it could not be read."""

    shown: str  # repository-relative POSIX (absolute when outside)
    path: Path
    format: Format
    data: bytes = b""
    error: str | None = None


def find_files(repo: Path, given: Iterable[Path]) -> Iterator[Found]:
    """Sops files under `given` (default: the repository), in a stable order."""
    for item in expand(repo, list(given) or [repo]):
        if len(item) == 2:
            shown, exc = item
            yield Found(shown, repo / shown, detect_format(shown), error=exc.message)
            continue
        shown, absolute, data = item
        if absolute.name.startswith(TEMP_PREFIX) or STATE_DIR in Path(shown).parts:
            continue
        yield Found(shown, absolute, detect_format(absolute.name), data)


# `tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=<the target's suffix>)`: 8 random characters
_TEMP_NAME = re.compile(re.escape(TEMP_PREFIX) + r"[a-z0-9_]{8}(?:\.[^/]*)?")


def cleanup_temps(directories: Iterable[Path], *, older_than: float) -> int:
    """Remove `.sopskit-*` temp files last modified before `older_than` (a timestamp):
    what a killed run left beside its targets (ciphertext only; never renamed over them)."""
    removed = 0
    for directory in set(directories):
        with contextlib.suppress(OSError):
            for entry in os.scandir(directory):
                if _leftover(entry, older_than):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
                        removed += 1
    return removed


def _leftover(entry: os.DirEntry[str], older_than: float) -> bool:
    """A temp file of ours: its name has mkstemp's shape and it holds nothing or a sops
    file. `.sopskit-baseline.json` (the audit's accepted findings) has the shape too."""
    if not (_TEMP_NAME.fullmatch(entry.name) and entry.is_file(follow_symlinks=False)
            and entry.stat(follow_symlinks=False).st_mtime < older_than):
        return False
    data = Path(entry.path).read_bytes()
    return not data or looks_like_sops(data, detect_format(entry.name))
