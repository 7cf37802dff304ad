"""Build a repository of N sops files x K keys (metadata only: the matrix never decrypts)
and write its access page, to look at it and time it:

    .venv/bin/python bench/access_page.py --keep /tmp/big && open /tmp/big/access.html

(`make bench` runs it with the defaults, 500 files x 30 keys, in a temporary directory.)
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyrage

CLUSTERS = ("sandbox", "staging", "production", "edge")


def main(root: Path, files: int, keys: int) -> None:
    rng = random.Random(12)
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    names = [f"{CLUSTERS[i % 4]}-flux-{i:02d}" if i >= 2 else f"admin-{i}"
             for i in range(keys)]
    recipients = {n: str(pyrage.x25519.Identity.generate().to_public()) for n in names}
    status = {n: "active" for n in names}
    status[names[6 % keys]], status[names[9 % keys]] = "retired", "revoked"
    reg = ["version: 1", "clusters:", *(f"  {c}: {{}}" for c in CLUSTERS), "keys:"]
    for n in names:
        clusters = '["*"]' if n.startswith("admin") else f"[{n.split('-')[0]}]"
        reg += [f"  {n}:", "    type: age", f"    recipient: {recipients[n]}",
                f"    clusters: {clusters}", f"    status: {status[n]}"]
    reg += ["rules:", *(f"  - path: clusters/{c}/**\n    clusters: [{c}]" for c in CLUSTERS)]
    (root / "keys").mkdir(exist_ok=True)
    (root / "keys/registry.yaml").write_text("\n".join(reg) + "\n")
    stranger = str(pyrage.x25519.Identity.generate().to_public())
    for i in range(files):
        cluster = CLUSTERS[i % 4]
        readers = [n for n in names if n.startswith(("admin", cluster))]
        if rng.random() < 0.03:
            readers.remove(rng.choice(readers))
        if rng.random() < 0.02:
            readers.append(rng.choice(names))
        stanzas = [recipients[n] for n in readers] + ([stranger] if i == 7 else [])
        path = root / f"clusters/{cluster}/app{i // 40:02d}/secret-{i:03d}.sops.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("stringData:\n  a: ENC[AES256_GCM,data:AA==,iv:" + "A" * 43
                        + "=,tag:" + "A" * 22 + "==,type:str]\nsops:\n  age:\n"
                        + "".join(f"    - recipient: {r}\n      enc: x\n" for r in stanzas)
                        + "  lastmodified: '2025-01-01T00:00:00Z'\n  mac: x\n"
                          "  version: 3.11.0\n")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sopskit", "--repo", str(root), "access",
                    "--format", "html", "--out", str(root / "access.html")], check=True)
    print(f"{files} files x {keys} keys: page in {time.perf_counter() - start:.2f} s, "
          f"{(root / 'access.html').stat().st_size // 1024} KiB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--keys", type=int, default=30)
    parser.add_argument("--keep", type=Path, help="build here and keep it")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="sopskit-bench-access-"))
    try:
        main(base, args.files, args.keys)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
