"""A whole `rekey --apply` or `--resume`: lock, plan, journal, apply, finish.

A fresh apply refuses to start over an interrupted one (its journal lists files not done),
so that `--rotate-data-key always` never rotates a file twice by accident; `--resume`
re-plans only the files the journal does not list as done. A file planned to rotate whose
data key has not changed yet (its encrypted MAC is the one planned: untouched, or only
re-keyed by `updatekeys` before the crash) still rotates. Any other file whose bytes
changed since the interrupted run planned it was (most likely) written by that run: it is
re-planned without `always`, so it is left alone when it is already as wanted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sopskit.engine.rekey import journal as journal_mod
from sopskit.engine.rekey.apply import Context, Outcome, apply_plan
from sopskit.engine.rekey.desired import Desired
from sopskit.engine.rekey.journal import Journal, JournalState, state_dir
from sopskit.engine.rekey.lock import RekeyLock
from sopskit.engine.rekey.plan import (
    DEFAULT_MAX_AGE_DAYS,
    ROTATING,
    AgeOf,
    FilePlan,
    Plan,
    RotateMode,
    digest,
    mac_digest,
    make_plan,
    plan_file,
)
from sopskit.engine.rekey.scope import Found, cleanup_temps
from sopskit.errors import ExitCode, SopskitError, UsageError
from sopskit.sopsfile.document import detect_format, parse

OnOutcome = Callable[[Outcome], None]
OnPlan = Callable[[Plan], None]


@dataclass(frozen=True)
class Options:
    mode: RotateMode = "auto"
    jobs: int = 1
    allow_less_encryption: bool = False
    max_age_days: int = DEFAULT_MAX_AGE_DAYS
    age_of: AgeOf | None = None  # data-key ages (e.g. from the audit); None: not considered


@dataclass
class Result:
    """The plan that ran, each file's outcome, and (on resume) what the earlier run did."""

    plan: Plan
    outcomes: list[Outcome]
    earlier: list[dict[str, Any]] = field(default_factory=list)  # journal lines
    temps_removed: int = 0

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status in ("failed", "blocked")]

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.FINDINGS if self.failed else ExitCode.OK


def _refuse_over_interrupted(state: JournalState | None) -> None:
    if state is not None and not state.finished and state.remaining:
        raise UsageError(f"an interrupted rekey still has {len(state.remaining)} file(s) to "
                         "do: run `sopskit rekey --resume` (or delete the journal to start "
                         "over)", path=state.path)


def pending(repo: Path) -> bool:
    """Whether an interrupted apply left files to do (for a hint; takes no lock)."""
    state = journal_mod.load(state_dir(repo))
    return state is not None and not state.finished and bool(state.remaining)


def apply(repo: Path, given: Iterable[Path], desired: Desired, ctx: Context, *,
          options: Options, on_outcome: OnOutcome | None = None,
          on_plan: OnPlan | None = None) -> Result:
    """Plan and apply under the repository's rekey lock, journalled."""
    directory = state_dir(repo)
    with RekeyLock(directory):
        _refuse_over_interrupted(journal_mod.load(directory))
        plan = make_plan(repo, given, desired, options.mode, age_of=options.age_of,
                         max_age_days=options.max_age_days)
        if on_plan is not None:
            on_plan(plan)
        journal = Journal.create(directory, plan, {
            "allow_less_encryption": options.allow_less_encryption})
        try:
            outcomes = apply_plan(plan.files, ctx, jobs=options.jobs, journal=journal,
                                  on_outcome=on_outcome)
            journal.finish()
        finally:
            journal.close()
    return Result(plan, outcomes)


def replan(repo: Path, state: JournalState, desired: Desired) -> tuple[Plan, dict[str, str]]:
    """The plan of the files an interrupted run did not finish, and notes on them."""
    mode: RotateMode = state.header.get("mode", "auto")
    files: list[FilePlan] = []
    notes: dict[str, str] = {}
    for entry in state.remaining:
        shown = entry["path"]
        path = repo / shown
        try:
            data = path.read_bytes()
        except OSError as exc:
            files.append(plan_file(Found(shown, path, detect_format(shown),
                                         error=f"cannot read it ({exc.strerror})"),
                                   desired, mode))
            continue
        file_mode, note = _resume_mode(entry, data, mode)
        if note:
            notes[shown] = note
        files.append(plan_file(Found(shown, path, detect_format(shown), data), desired,
                               file_mode))
    return Plan(tuple(files), mode, desired.source), notes


def _resume_mode(entry: dict[str, Any], data: bytes, mode: RotateMode
                 ) -> tuple[RotateMode, str | None]:
    """How to re-plan one unfinished file, and a note on it. A planned rotation is still
    due unless the data key already changed: a crash between the `updatekeys` and the
    `rotate` of a file with several key groups leaves it with the new recipients and the
    old data key, which the removed keys hold (told by its unchanged encrypted MAC)."""
    changed = digest(data) != entry["digest"]
    if entry["action"] in ROTATING and entry.get("mac") in (None, _mac_of(data, entry["path"])):
        return "always", ("re-keyed by the interrupted run, data key not yet rotated"
                          if changed else None)
    if changed:
        return "auto", "changed since the interrupted run planned it (written by it)"
    return mode, None


def _mac_of(data: bytes, shown: str) -> str | None:
    try:
        return mac_digest(parse(data, path=shown, fmt=detect_format(shown)))
    except SopskitError:
        return None  # planned as an error entry anyway


def resume(repo: Path, desired: Desired, ctx: Context, *, jobs: int,
           on_outcome: OnOutcome | None = None, on_plan: OnPlan | None = None) -> Result:
    """Finish an interrupted apply: remove its temp files, re-plan and apply the rest."""
    directory = state_dir(repo)
    with RekeyLock(directory):
        state = journal_mod.load(directory)
        if state is None or state.finished:
            raise UsageError("there is no interrupted rekey to resume in this repository")
        started = time.time()
        removed = cleanup_temps({(repo / e["path"]).parent for e in state.entries},
                                older_than=started)
        plan, notes = replan(repo, state, desired)
        if on_plan is not None:
            on_plan(plan)
        ctx.notes.update(notes)
        allow = bool(state.header.get("options", {}).get("allow_less_encryption"))
        run_ctx = Context(ctx.repo, ctx.sops, ctx.identities,
                          ctx.allow_less_encryption or allow, ctx.notes)
        journal = Journal(state.path)
        try:
            outcomes = apply_plan(plan.files, run_ctx, jobs=jobs, journal=journal,
                                  on_outcome=on_outcome)
            journal.finish()
        finally:
            journal.close()
    return Result(plan, outcomes, list(state.done.values()), removed)
