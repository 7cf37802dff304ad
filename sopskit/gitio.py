"""Running git for sopskit: one environment, one timeout, one error, one blob reader.

Every git call goes through `sopskit.process` from here. The environment is minimal (no
system config, C locale) but keeps HOME / GIT_CONFIG_GLOBAL, so `safe.directory` and the
user's identity still apply.
"""

from __future__ import annotations

import os
from pathlib import Path

from sopskit import process
from sopskit.errors import InputError

GIT_TIMEOUT = 120.0


def git(repo: Path, *args: str, input: bytes | None = None) -> bytes:
    """Run git in `repo`; stdout. A failure is an InputError naming the command (git's
    first stderr line: paths and revisions, never file content); a missing git binary is
    the BinaryError of process.run."""
    env = process.base_env({"GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C",
                            **{k: os.environ[k] for k in ("HOME", "GIT_CONFIG_GLOBAL")
                               if k in os.environ}})
    done = process.run(["git", "-C", str(repo), *args], env=env, input=input,
                       timeout=GIT_TIMEOUT)
    if done.returncode != 0:
        first = done.stderr.decode("utf-8", "replace").strip().splitlines()[:1]
        raise InputError(f"git {args[0]} failed: {first[0] if first else done.returncode}",
                         path=repo)
    return done.stdout


def read_blobs(repo: Path, wanted: list[tuple[str, str]]) -> dict[str, bytes]:
    """name -> content for (name, blob id) pairs, in one `git cat-file --batch` asked by
    blob id (a name with a newline or in another encoding cannot shift the answers)."""
    if not wanted:
        return {}
    out = git(repo, "cat-file", "--batch", input="".join(f"{b}\n" for _, b in wanted).encode())
    blobs: dict[str, bytes] = {}
    pos = 0
    for name, _ in wanted:
        header_end = out.index(b"\n", pos)
        header = out[pos:header_end].split()
        if len(header) != 3:
            raise InputError("git cat-file: blob missing from the object store", path=name)
        size = int(header[2])
        blobs[name] = out[header_end + 1: header_end + 1 + size]
        pos = header_end + 1 + size + 1
    return blobs
