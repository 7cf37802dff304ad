"""Text and JSON renderings of a rekey plan and of its result (the proof)."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any, TextIO

from sopskit.engine.rekey.apply import Outcome
from sopskit.engine.rekey.plan import ACTIONS, FilePlan, Plan
from sopskit.engine.rekey.proof import FileProof
from sopskit.engine.rekey.run import Result


def plan_dict(plan: Plan) -> dict[str, Any]:
    return {"version": 1, "source": plan.source, "rotate_data_key": plan.mode,
            "summary": {a: plan.count(a) for a in ACTIONS},
            "files": [_file_dict(f) for f in plan.files]}


def _file_dict(fp: FilePlan) -> dict[str, Any]:
    return {"path": fp.path, "format": fp.format, "action": fp.action,
            "current": sorted(map(str, fp.current)), "wanted": sorted(map(str, fp.wanted)),
            "added": sorted(map(str, fp.added)), "removed": sorted(map(str, fp.removed)),
            "reasons": list(fp.reasons), "less_encrypted": list(fp.less_encrypted)}


def plan_text(plan: Plan) -> str:
    width = max([len(f.path) for f in plan.files] + [4])
    lines = [f"{'FILE':<{width}}  {'ACTION':<17}  WHY"]
    for fp in plan.files:
        why = "; ".join(fp.reasons) or "-"
        lines.append(f"{fp.path:<{width}}  {fp.action:<17}  {why}")
        if fp.less_encrypted:
            lines.append(f"{'':<{width}}  {'':<17}  ! would leave in plaintext: "
                         f"{', '.join(fp.less_encrypted)} (needs --allow-less-encryption)")
    counts = ", ".join(f"{plan.count(a)} {a}" for a in ACTIONS if plan.count(a))
    lines.append(f"{len(plan.files)} sops file(s) against {plan.source}: {counts or 'none'}")
    if plan.count("unmanaged"):
        lines.append(f"note: {plan.count('unmanaged')} file(s) left alone (no rule covers "
                     "them, or Flux decryption secrets): whoever reads them now still can")
    if any(f.changes for f in plan.files):
        lines.append("nothing written: run with --apply to carry this out")
    return "\n".join(lines)


def result_dict(result: Result) -> dict[str, Any]:
    statuses = Counter(o.status for o in result.outcomes)
    return {"version": 1, "source": result.plan.source,
            "summary": {"files": len(result.outcomes), "done": statuses["done"],
                        "failed": statuses["failed"], "blocked": statuses["blocked"],
                        "skipped": statuses["skipped"],
                        "done_before_resume": len(result.earlier),
                        "temp_files_removed": result.temps_removed},
            "files": [_outcome_dict(o) for o in result.outcomes],
            "done_before_resume": [_strip(r) for r in result.earlier]}


def _strip(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "kind"}


def _outcome_dict(outcome: Outcome) -> dict[str, Any]:
    return _strip(outcome.as_record())


Describe = Callable[[str], str]  # "age:age1..." -> "flux-sandbox (retired)"


def _proof_words(proof: FileProof | None, describe: Describe) -> str:
    if proof is None:
        return ""
    parts = ["recipients ok" if proof.recipients_ok else "RECIPIENTS DIFFER",
             {True: "MAC ok", False: "MAC BAD", None: "MAC not checked (no key)"}[proof.mac_ok]]
    if proof.key_rotated is not None:
        parts.append("new data key" if proof.key_rotated else "DATA KEY UNCHANGED")
    parts += [f"{describe(r)}: {v}" for r, v in proof.removed.items()]
    return ", ".join(parts)


def _outcome_line(o: Outcome, describe: Describe) -> str:
    detail = (o.error or "").removeprefix(f"{o.path}: ") if o.status != "done" \
        else _proof_words(o.proof, describe)
    note = f" [{o.note}]" if o.note else ""
    return f"{o.status.upper():<7} {o.path} ({o.action}): {detail}{note}"


def result_text(result: Result, describe: Describe = str, *, verbose: bool = False) -> str:
    """One line per changed, failed or skipped file (every file with `verbose`), a summary."""
    quiet = [o for o in result.outcomes if o.action == "nothing" and o.status == "done"]
    lines = [_outcome_line(o, describe) for o in sorted(result.outcomes, key=lambda o: o.path)
             if verbose or o not in quiet]
    statuses = Counter(o.status for o in result.outcomes)
    summary = (f"{len(result.outcomes)} file(s): {statuses['done']} done and proved "
               f"({len(quiet)} needed nothing), {statuses['failed']} failed, "
               f"{statuses['blocked']} blocked")
    if statuses["skipped"]:
        summary += f", {statuses['skipped']} unmanaged left alone"
    if result.earlier:
        summary += f"; {len(result.earlier)} finished before the interruption"
    if result.temps_removed:
        summary += f"; {result.temps_removed} leftover temp file(s) removed"
    lines.append(summary)
    return "\n".join(lines)


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2)


class Progress:
    """`rekey 37/200 (1 failed)` redrawn on a terminal; silent otherwise or with CI=true."""

    def __init__(self, stream: TextIO = sys.stderr, *, enabled: bool = True) -> None:
        self.total, self.stream, self.done, self.failed = 0, stream, 0, 0
        self.enabled = enabled and stream.isatty() and os.environ.get("CI", "").lower() not in (
            "true", "1")

    def start(self, plan: Plan) -> None:
        self.total = len(plan.files)

    def __call__(self, outcome: Outcome) -> None:
        self.done += 1
        self.failed += outcome.status in ("failed", "blocked")
        if self.enabled:
            failed = f" ({self.failed} failed)" if self.failed else ""
            self.stream.write(f"\rrekey {self.done}/{self.total}{failed}")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.done:
            self.stream.write("\n")
            self.stream.flush()
