"""Which revision a cluster reconciles, read from its GitRepository as source-controller
reads it: `commit` first, then `name`, `semver`, `tag`, `branch` (GitRepository v1 ref
precedence; no ref at all means branch `master`). A semver range is resolved against the
repository's tags (annotated and lightweight alike) with Flux's semantics (see semver.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sopskit import gitio
from sopskit.errors import BinaryError, InputError
from sopskit.flux.model import GitSource
from sopskit.flux.semver import latest_matching, parse_constraint

DEFAULT_BRANCH = "master"  # source-controller's default when spec.ref is empty


@dataclass(frozen=True)
class Tracking:
    kind: Literal["branch", "tag", "semver", "commit", "name"]
    ref: str  # the branch, tag, range, commit or ref name as written
    rev: str | None  # what git resolves: the branch/tag/commit to read
    commit: str | None  # the commit it resolves to now (None: not in this clone)
    tag: str | None = None  # the tag a semver range resolves to

    @property
    def resolved(self) -> str | None:
        """Flux's revision string (`main@sha1:...`, `v1.2.0@sha1:...`)."""
        if self.commit is None:
            return None
        label = self.tag or (self.ref if self.kind in ("branch", "tag", "name") else None)
        return f"{label}@sha1:{self.commit}" if label else f"sha1:{self.commit}"


def tags(repo: Path) -> list[tuple[str, int]]:
    """(tag, timestamp) of every tag: the tagger date of an annotated tag, the commit
    date of a lightweight one (what source-controller orders equal versions by)."""
    out = gitio.git(repo, "for-each-ref", "--format=%(refname:strip=2)%00%(creatordate:unix)",
                    "refs/tags")
    pairs = []
    for line in out.decode("utf-8", "replace").splitlines():
        name, _, stamp = line.partition("\0")
        pairs.append((name, int(stamp) if stamp.isdigit() else 0))
    return pairs


def _commit(repo: Path, *candidates: str) -> tuple[str | None, str | None]:
    for rev in candidates:
        try:
            sha = gitio.git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options",
                            f"{rev}^{{commit}}").decode().strip()
        except InputError:
            continue
        return rev, sha
    return None, None


def of(source: GitSource) -> tuple[str, str]:
    """(kind, ref) as the GitRepository states it."""
    for kind, value in (("commit", source.commit), ("name", source.name_ref),
                        ("semver", source.semver), ("tag", source.tag),
                        ("branch", source.branch)):
        if value:
            return kind, value
    return "branch", DEFAULT_BRANCH


def resolve(repo: Path, source: GitSource) -> Tracking:
    """The revision `source` reconciles in this clone (rev/commit None when this clone
    cannot tell: no git, no such branch, no matching tag); InputError for an improper
    semver range."""
    kind, ref = of(source)
    constraint = (parse_constraint(ref, where=source.file or source.name)
                  if kind == "semver" else None)
    try:
        if constraint is not None:
            tag = latest_matching(constraint, tags(repo))
            if tag is None:
                return Tracking("semver", ref, None, None)
            rev, sha = _commit(repo, f"refs/tags/{tag}")
            return Tracking("semver", ref, rev, sha, tag)
        if kind == "tag":
            rev, sha = _commit(repo, f"refs/tags/{ref}")
        elif kind == "branch":
            rev, sha = _commit(repo, f"refs/heads/{ref}", f"refs/remotes/origin/{ref}")
        else:
            rev, sha = _commit(repo, ref)
    except (BinaryError, InputError):  # not a git repository, or git missing
        rev, sha = None, None
    return Tracking(kind, ref, rev, sha)  # type: ignore[arg-type]
