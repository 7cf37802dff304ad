"""The access matrix as a terminal table: one symbol per cell, keys numbered in a legend."""

from __future__ import annotations

from sopskit.access.matrix import CELL_STATES, Matrix, cell
from sopskit.printable import printable

SYMBOL = {state: symbol for state, symbol, _ in CELL_STATES}


def render(matrix: Matrix) -> str:
    where = f"at {matrix.rev[:12]}" if matrix.rev else "in the working tree"
    lines = [f"{len(matrix.files)} sops file(s) {where}, {len(matrix.keys)} key(s); "
             f"expected readers from {matrix.source}", ""]
    width = len(str(len(matrix.keys)))
    for n, c in enumerate(matrix.keys, start=1):
        clusters = ",".join(c.clusters) or "-"
        lines.append(f"  k{n:<{width}}  {printable(c.name)}  [{printable(clusters)}]  "
                     f"{c.status}")
    lines.append("")
    header = " ".join(f"k{n:<{width}}" for n in range(1, len(matrix.keys) + 1))
    lines.append(f"{'':<{width + 1}}  {header}  file")
    directory = None
    for row in matrix.files:
        if row.directory != directory:
            directory = row.directory
            lines.append(f"{printable(directory)}/")
        cells = " ".join(f"{SYMBOL[cell(matrix, row, c)]:<{width + 1}}" for c in matrix.keys)
        problems = matrix.problems(row)
        flag = f"  ({problems} problem{'s' if problems != 1 else ''})" if problems else ""
        lines.append(f"{'':<{width + 1}}  {cells}  {printable(row.path.rpartition('/')[2])}{flag}")
    lines += ["", "  ".join(f"{symbol} {state}" for state, symbol, _ in CELL_STATES)]
    total = sum(matrix.problems(r) for r in matrix.files)
    lines.append(f"{total} problem cell(s) in "
                 f"{sum(1 for r in matrix.files if matrix.problems(r))} file(s)")
    return "\n".join(lines) + "\n"
