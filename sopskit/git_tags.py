"""What the newest release tag holds: the sops files a tag-tracking cluster decrypts.

Production clusters often reconcile a tag, not `main`: until a new tag is cut and
reconciled, they decrypt the files as they were at the latest tag. Reading those files
(one `git cat-file --batch` for all of them) tells which still need an old key.
"""

from __future__ import annotations

from pathlib import Path

from sopskit import gitio
from sopskit.errors import BinaryError, InputError
from sopskit.flux.semver import parse_tag
from sopskit.recipient import Recipient
from sopskit.sopsfile.document import detect_format, looks_like_sops, parse


def _git(repo: Path, *args: str) -> bytes | None:
    """git's stdout, or None when there is no git or the call fails (no tags, no repo)."""
    try:
        return gitio.git(repo, *args)
    except (BinaryError, InputError):
        return None


def latest_tag(repo: Path) -> str | None:
    """The highest release tag as Flux reads versions (`v1.2.3` / `1.2.3`, no
    pre-release), or None: `dev-snapshot`, `v2.0.0-rc.1` or a newer non-release tag is
    never taken for a release."""
    out = _git(repo, "tag")
    if not out:
        return None
    releases = [v for t in out.decode(errors="replace").splitlines()
                if (v := parse_tag(t.strip())) is not None and not v.pre]
    return max(releases).original if releases else None


def _blobs(repo: Path, entries: list[tuple[str, str]]) -> dict[str, bytes]:
    """name -> content at the tag; nothing when git cannot answer (no warning then)."""
    try:
        return gitio.read_blobs(repo, entries)
    except (BinaryError, InputError):
        return {}


def _tree(repo: Path, tag: str) -> list[tuple[str, str]]:
    """(path, blob id) of every file at `tag` (`ls-tree -r -z`: mode type id TAB path)."""
    listing = _git(repo, "ls-tree", "-r", "-z", "--end-of-options", tag) or b""
    out = []
    for record in listing.split(b"\0"):
        meta, _, name = record.partition(b"\t")
        fields = meta.split()
        if len(fields) == 3 and fields[1] == b"blob" and fields[0] != b"120000":
            out.append((name.decode("utf-8", "surrogateescape"), fields[2].decode()))
    return out


def recipients_at(repo: Path, tag: str) -> dict[str, frozenset[Recipient]]:
    """Each sops file at `tag` (found by content) and its recipients."""
    out: dict[str, frozenset[Recipient]] = {}
    for name, data in _blobs(repo, _tree(repo, tag)).items():
        fmt = detect_format(name)
        if not looks_like_sops(data, fmt):
            continue
        try:
            out[name] = parse(data, path=f"{tag}:{name}", fmt=fmt).metadata.recipients
        except InputError:
            continue
    return out
