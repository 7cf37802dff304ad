"""The git merge driver for sops files (`sopskit git merge %O %A %B %P`).

git calls it with three temp files (base, ours, theirs) and the path; the result must be
left in the `ours` file, and a non-zero exit marks a conflict. A merged sops file replaces
`ours` only after `review.merge` verified it. A real conflict leaves `ours` untouched and
names the key paths; without a key the driver says so and falls back to git's own textual
merge (the usual conflict markers, on ciphertext: no plaintext reaches the work tree).
Files that are not sops files get the textual merge too.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from sopskit import gitio
from sopskit.engine import paths
from sopskit.errors import NoIdentityError, SopskitError
from sopskit.fsio import write_atomic
from sopskit.identity.model import Identities
from sopskit.review.merge import MergeConflict, is_sops, merge_bytes
from sopskit.sopsfile.document import detect_format


@dataclass(frozen=True)
class DriverResult:
    code: int  # 0 merged; non-zero: conflict (git keeps the file unmerged)
    message: str  # one line for stderr: key paths and file names only


def run_merge_driver(base: Path, ours: Path, theirs: Path, name: str, *,
                     identities: Identities, cwd: Path) -> DriverResult:
    fmt = detect_format(name)
    data = [paths.read_input(p, shown=str(p)) for p in (base, ours, theirs)]
    if not (is_sops(data[1], fmt, name) and is_sops(data[2], fmt, name)):
        return _textual(base, ours, theirs, name, cwd=cwd, why="not a sops file on both sides")
    try:
        merged = merge_bytes(data[0] if data[0].strip() else None, data[1], data[2],
                             path=name, fmt=fmt, identities=identities)
    except MergeConflict as exc:
        quoted = shlex.quote(name)  # the commands must run as printed, whatever the name
        return DriverResult(1, f"sopskit: {name}: conflict in {', '.join(exc.conflicts)}; "
                               f"the file is left as ours. Resolve with `sopskit edit "
                               f"--resolve {quoted}`, then `git add {quoted}`")
    except NoIdentityError:
        return _textual(base, ours, theirs, name, cwd=cwd,
                        why="no key of yours opens it; git's normal conflict is left")
    except SopskitError as exc:
        return DriverResult(1, f"sopskit: {name}: cannot merge ({exc.message}); the file is "
                               "left as ours")
    write_atomic(ours, merged)
    return DriverResult(0, f"sopskit: {name}: merged per key path (verified)")


def _textual(base: Path, ours: Path, theirs: Path, name: str, *, cwd: Path,
             why: str) -> DriverResult:
    code = gitio.merge_file(cwd, ours, base, theirs, ("ours", "base", "theirs"))
    if code == 0:
        return DriverResult(0, "")
    return DriverResult(1, f"sopskit: {name}: {why}; merged as text with conflict markers")
