"""A runbook as numbered text for people and as JSON for automation."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from sopskit.printable import printable
from sopskit.runbook.model import Runbook


def to_text(book: Runbook) -> str:
    """The runbook, one line per title, command, note and warning. Every piece is made
    printable here (`printable`): file, ref and cluster names come from the repository,
    and a name with a line break would otherwise forge lines, a whole step included."""
    where = ", ".join(f"{t.cluster} ({'tag' if t.kind == 'tag' else 'branch'} "
                      f"{t.ref or 'none yet'})" for t in book.clusters)
    lines = [f"# Rotate {book.key} ({book.status}) -> {book.new}", "",
             f"Clusters: {where or 'none'}", ""]
    for n, step in enumerate(book.steps, start=1):
        done = f"  [already done: {step.done}]" if step.done else ""
        lines.append(f"{n}. {step.title}{done}")
        lines += [f"     $ {c}" for c in step.commands]
        lines += [f"     - {note}" for note in step.notes]
        lines += [f"     WARNING: {w}" for w in step.warnings]
        lines.append("")
    return "\n".join(printable(line) for line in lines).rstrip() + "\n"


def to_dict(book: Runbook) -> dict[str, Any]:
    return {"version": 1, "key": book.key, "new": book.new, "status": book.status,
            "clusters": [{**asdict(t), "needs": t.needs()} for t in book.clusters],
            "steps": [{"number": n, **asdict(s)} for n, s in enumerate(book.steps, start=1)]}


def to_json(book: Runbook) -> str:
    return json.dumps(to_dict(book), indent=2)
