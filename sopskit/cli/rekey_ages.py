"""Data-key ages for `rekey --rotate-data-key auto`, from the same history reading as the
audit (`history.datakey`: renames followed).

The engine takes ages through a callable so that it does not depend on the audit package;
this module joins the two. A file changed since the last commit gets no age (its history
says nothing about what is on disk now, e.g. a rotation not yet committed).
"""

from __future__ import annotations

from pathlib import Path

from sopskit.engine.rekey.plan import AgeOf
from sopskit.errors import InputError, SopskitError
from sopskit.gitio import git, has_commits
from sopskit.history.datakey import KeyAge, key_ages
from sopskit.identity.model import Identities


def _uncommitted(repo: Path) -> set[str]:
    try:
        out = git(repo, "-c", "core.quotePath=false", "diff", "--name-only", "-z", "HEAD")
    except InputError:
        return set()
    return {p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p}


def audit_ages(repo: Path, identities: Identities | None) -> AgeOf:
    """An `AgeOf` for `make_plan`: exact where `identities` open both versions."""

    def age_of(paths: list[str]) -> dict[str, KeyAge]:
        try:
            if not has_commits(repo):
                return {}
            changed = _uncommitted(repo)
            ages = key_ages(repo, [p for p in paths if p not in changed], identities)
        except SopskitError:  # no git, or history unreadable: ages unknown, none rotated
            return {}
        return dict(ages)

    return age_of
