"""The crash-safe record of a rekey: its plan, then one line per finished file.

JSON lines under `.git/sopskit/` (or `.sopskit/` outside git). The header is written to a
temp file, fsynced and renamed into place; each later line is appended and fsynced before
the next file's result is reported, so after a power cut the journal lists no file as done
that is not. A torn last line (cut mid-write) is ignored on load. Only paths, actions,
digests of ciphertext, public recipients and yes/no results are recorded: never a
plaintext value or a data key.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sopskit import fsio
from sopskit.engine.rekey.plan import FilePlan, Plan
from sopskit.errors import InputError

JOURNAL_NAME = "rekey-journal.jsonl"
VERSION = 1


def state_dir(repo: Path) -> Path:
    """`.git/sopskit` (following a worktree's `.git` file), else `.sopskit`."""
    dot_git = repo / ".git"
    if dot_git.is_dir():
        return dot_git / "sopskit"
    if dot_git.is_file():
        text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
        if text.startswith("gitdir:"):
            return (repo / text.removeprefix("gitdir:").strip()).resolve() / "sopskit"
    return repo / ".sopskit"


def _entry(fp: FilePlan) -> dict[str, Any]:
    return {"path": fp.path, "format": fp.format, "action": fp.action, "digest": fp.digest,
            "mac": fp.mac_digest, "wanted": sorted(map(str, fp.wanted)),
            "removed": sorted(map(str, fp.removed))}


@dataclass
class JournalState:
    """What a journal on disk says."""

    path: Path
    header: dict[str, Any]
    done: dict[str, dict[str, Any]] = field(default_factory=dict)
    finished: bool = False

    @property
    def entries(self) -> list[dict[str, Any]]:
        return list(self.header.get("files", []))

    @property
    def remaining(self) -> list[dict[str, Any]]:
        return [e for e in self.entries if e["path"] not in self.done]


class Journal:
    """An open journal, appended to as files finish (from one thread)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = path.open("a", encoding="utf-8")

    @classmethod
    def create(cls, directory: Path, plan: Plan, options: dict[str, Any]) -> Journal:
        header = {"kind": "plan", "version": VERSION, "started": time.time(),
                  "pid": os.getpid(), "mode": plan.mode, "source": plan.source,
                  "options": options, "files": [_entry(f) for f in plan.files]}
        path = directory / JOURNAL_NAME
        try:
            directory.mkdir(parents=True, exist_ok=True)
            fsio.replace_verified(path, (json.dumps(header) + "\n").encode(), lambda _p: None)
            return cls(path)
        except (OSError, InputError) as exc:  # before any file is touched: nothing to undo
            reason = exc.strerror if isinstance(exc, OSError) else exc.message
            raise InputError(f"cannot write the rekey journal ({reason})",
                             path=path) from None

    def record(self, line: dict[str, Any]) -> None:
        try:
            self._fh.write(json.dumps(line) + "\n")
            self._fh.flush()
            os.fsync(self._fh.fileno())
        except OSError as exc:  # disk full: the files stay old or new, resume re-plans
            raise InputError(f"cannot append to the rekey journal ({exc.strerror}); every "
                             "file is old or new and valid: `sopskit rekey --resume` once "
                             "it can be written", path=self.path) from None

    def finish(self) -> None:
        self.record({"kind": "finished", "at": time.time()})
        self.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._fh.close()


def load(directory: Path) -> JournalState | None:
    """The journal in `directory`, or None when there is none."""
    path = directory / JOURNAL_NAME
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"cannot read the rekey journal ({exc.strerror})", path=path) from None
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line torn by a crash: that file is simply not done
    if not records or not _is_header(records[0]):
        raise InputError("not a sopskit rekey journal (delete it to start over)", path=path)
    state = JournalState(path, records[0])
    for rec in records[1:]:
        if not isinstance(rec, dict):
            continue
        if rec.get("kind") == "file" and rec.get("status") in ("done", "skipped") \
                and isinstance(rec.get("path"), str):
            state.done[rec["path"]] = rec
        elif rec.get("kind") == "finished":
            state.finished = True
    return state


def _is_header(rec: object) -> bool:
    """The plan line, with every file entry as `_entry` writes it."""
    if not isinstance(rec, dict) or rec.get("kind") != "plan" or rec.get("version") != VERSION:
        return False
    files = rec.get("files")
    return isinstance(files, list) and all(
        isinstance(e, dict) and all(isinstance(e.get(k), str) for k in ("path", "action",
                                                                       "digest"))
        for e in files)
