"""`sopskit exposure` as text (JSON is `Exposure.as_dict`)."""

from __future__ import annotations

from sopskit.history.exposure import STATUSES, Exposure
from sopskit.printable import printable


def exposure_text(result: Exposure) -> str:
    key = result.key
    lines = [f"Exposure of {key.name} ({key.recipient}, {key.status}): "
             f"{len(result.files)} file(s) in {result.commits} commit(s) of all branches "
             "and tags"]
    for f in result.files:
        where = " (no longer a sops file)" if f.plaintext else "" if f.exists else " (gone)"
        moved = [p for p in f.history_paths if p != f.path]
        lines.append("")
        lines.append(f"{printable(f.path)}{where}  first {f.first_commit[:12]}  last "
                     f"{f.last_commit[:12]}  readable now: {'yes' if f.readable_now else 'no'}")
        if moved:
            lines.append(f"  also at: {printable(', '.join(moved))}")
        lines += [f"  {v.status:<9}  {printable(v.key_path)}" for v in f.values]
    totals = ", ".join(f"{result.summary.get(s, 0)} {s}" for s in STATUSES)
    lines += ["", f"values: {totals}", *(f"note: {n}" for n in result.notes)]
    if result.live():
        lines.append("change the unchanged and unknown values at their source, then "
                     "`sopskit edit` each file")
    return "\n".join(lines) + "\n"
