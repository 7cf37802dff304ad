"""What still needs a key: rules that encrypt to it, and sops files in the repository whose
metadata lists it. `keys remove` refuses while anything does (the registry would lose the
name of a key that can still read secrets)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from sopskit.errors import BinaryError, InputError
from sopskit.gitio import git
from sopskit.registry.model import Key, Registry
from sopskit.registry.resolve import recipients_of_rule
from sopskit.repo import is_git_repo
from sopskit.sopsfile.document import SopsDocument, detect_format, looks_like_sops, parse

MAX_SCAN_BYTES = 16 * 1024 * 1024
_SKIP_DIRS = {".git", ".venv", "node_modules", "__pycache__"}


def rules_needing(registry: Registry, key: Key, *, today: date | None) -> list[str]:
    """Labels of the rules that encrypt to `key` or name it in a key group."""
    out = []
    for rule in registry.rules:
        named = any(key.name in g.keys for g in rule.key_groups)
        if named or key in recipients_of_rule(registry, rule, today=today):
            out.append(f"{rule.label} ({rule.path})")
    return out


def repo_files(repo: Path) -> Iterator[Path]:
    """Tracked and untracked-but-not-ignored files (git), else a walk without dot dirs."""
    if is_git_repo(repo):
        try:
            listing: bytes | None = git(repo, "ls-files", "-z", "--cached", "--others",
                                        "--exclude-standard")
        except (BinaryError, InputError):
            listing = None
        if listing is not None:
            for name in listing.decode("utf-8", "surrogateescape").split("\0"):
                if name:
                    yield repo / name
            return
    for root, dirs, files in os.walk(repo):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS and not d.startswith(".")]
        for name in files:
            yield Path(root) / name


def sops_documents(repo: Path) -> Iterator[tuple[str, SopsDocument]]:
    """(repository-relative path, parsed metadata) of every sops file in the repository,
    found by content; broken sops files are skipped (the audit and verify report them)."""
    for path in repo_files(repo):
        try:
            if not path.is_file() or path.stat().st_size > MAX_SCAN_BYTES:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        fmt = detect_format(path)
        if not looks_like_sops(data, fmt):
            continue
        rel = path.relative_to(repo).as_posix()
        try:
            yield rel, parse(data, path=rel, fmt=fmt)
        except InputError:
            continue


def files_needing(repo: Path, key: Key) -> list[str]:
    """Repository-relative paths of sops files encrypted to `key`'s recipient."""
    return sorted(rel for rel, doc in sops_documents(repo)
                  if any(key.is_recipient(r) for r in doc.metadata.recipients))
