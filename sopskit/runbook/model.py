"""The runbook as data: clusters and how each tracks the repository, and numbered steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Tracking:
    """How one cluster receives a change: a branch (a merge/push) or a release tag."""

    cluster: str
    kind: Literal["branch", "tag"]
    ref: str  # the branch, or the tag it reconciles now ("" when there is none yet)
    guessed: bool  # from the cluster's name: the repository says nothing
    source: str = ""  # "GitRepository clusters/x/...: semver >=1 <2" when read from Flux

    def needs(self) -> str:
        """What a committed change needs before this cluster applies it."""
        if self.kind == "branch":
            return f"a merge to {self.ref}"
        return "a new release tag"


@dataclass(frozen=True)
class Step:
    """One step: a stable id for automation, commands runnable as printed, and notes."""

    id: str
    title: str
    commands: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    done: str | None = None  # set when the repository shows the step is already done
    expect: dict[str, Any] = field(default_factory=dict)  # what the commands will report


@dataclass(frozen=True)
class Runbook:
    key: str
    new: str
    status: str  # the key's effective status now: active, retired, revoked, expired
    clusters: tuple[Tracking, ...]
    steps: tuple[Step, ...]
