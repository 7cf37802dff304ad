"""`make fuzz`: the harness of tests/fuzz for many cases (default 100,000), in parallel
worker processes, printing the figures docs/security.md records. Exit 1 on any failure;
failing inputs are written to --out for replay (`seed N case M` names them too)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tests.fuzz.harness import Figures, fuzz


def _chunk(args: tuple[int, int, int, str]) -> Figures:
    seed, start, count, out = args
    return fuzz(seed, count, start=start, stop_after=20, out=Path(out))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", default="fuzz-failures")
    opts = parser.parse_args()
    out = Path(opts.out)
    out.mkdir(exist_ok=True)
    step = 1000
    chunks = [(opts.seed, s, min(step, opts.cases - s), str(out))
              for s in range(0, opts.cases, step)]
    began = time.monotonic()
    total = Figures()
    with ProcessPoolExecutor(opts.jobs) as pool:
        for part in pool.map(_chunk, chunks):
            total.cases += part.cases
            total.cpu_seconds += part.cpu_seconds
            if part.slowest > total.slowest:
                total.slowest, total.slowest_case = part.slowest, part.slowest_case
            total.failures += part.failures
    wall = time.monotonic() - began
    print(f"seed {opts.seed}: {total.cases} cases, {len(total.failures)} failures, "
          f"{total.cpu_seconds:.1f} s CPU ({1000 * total.cpu_seconds / max(total.cases, 1):.2f} "
          f"ms/case), slowest case {total.slowest:.2f} s CPU (case {total.slowest_case}), "
          f"{wall:.0f} s wall with {opts.jobs} jobs")
    for line in total.failures:
        print("FAIL", line)
    if not total.failures:
        out.rmdir() if not any(out.iterdir()) else None
    return 1 if total.failures else 0


if __name__ == "__main__":
    sys.exit(main())
