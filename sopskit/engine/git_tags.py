"""What the newest release tag holds: the sops files a tag-tracking cluster decrypts.

Production clusters often reconcile a tag, not `main`: until a new tag is cut and
reconciled, they decrypt the files as they were at the latest tag. Reading those files
(one `git cat-file --batch` for all of them) tells which still need an old key.
"""

from __future__ import annotations

from pathlib import Path

from sopskit import process
from sopskit.errors import BinaryError, InputError
from sopskit.recipient import Recipient
from sopskit.sopsfile.document import detect_format, looks_like_sops, parse

GIT_TIMEOUT = 60.0


def _git(repo: Path, *args: str, input: bytes | None = None) -> bytes | None:
    try:
        done = process.run(["git", "-C", str(repo), *args], env=process.base_env(),
                           input=input, timeout=GIT_TIMEOUT)
    except BinaryError:
        return None
    return done.stdout if done.returncode == 0 else None


def latest_tag(repo: Path) -> str | None:
    """The most recently created tag, or None (no git, no tags)."""
    out = _git(repo, "tag", "--sort=-v:refname", "--sort=-creatordate")  # last key wins
    if not out:
        return None
    first = out.decode(errors="replace").splitlines()
    return first[0].strip() if first else None


def _batch(repo: Path, tag: str, names: list[str]) -> dict[str, bytes]:
    query = "".join(f"{tag}:{n}\n" for n in names).encode()
    out = _git(repo, "cat-file", "--batch", input=query) or b""
    blobs: dict[str, bytes] = {}
    pos = 0
    for name in names:
        end = out.find(b"\n", pos)
        if end < 0:
            break
        header = out[pos:end].split()
        pos = end + 1
        if len(header) != 3 or header[1] != b"blob":
            continue
        size = int(header[2])
        blobs[name] = out[pos:pos + size]
        pos += size + 1
    return blobs


def recipients_at(repo: Path, tag: str) -> dict[str, frozenset[Recipient]]:
    """Each sops file at `tag` (found by content) and its recipients."""
    listing = _git(repo, "ls-tree", "-r", "-z", "--name-only", tag) or b""
    names = [n.decode(errors="replace") for n in listing.split(b"\0") if n]
    out: dict[str, frozenset[Recipient]] = {}
    for name, data in _batch(repo, tag, names).items():
        fmt = detect_format(name)
        if not looks_like_sops(data, fmt):
            continue
        try:
            out[name] = parse(data, path=f"{tag}:{name}", fmt=fmt).metadata.recipients
        except InputError:
            continue
    return out
