"""Benchmark: `sopskit encrypt --all` of N plaintext Kubernetes Secrets, --jobs 2 vs --jobs 1.

Creates N small plaintext Secret manifests under a `.sops.yaml` rule for one age key (in a
git repository, as a user's would be), then times `sopskit encrypt --all --jobs 1` and
`--jobs 2` on fresh copies, in the same run, and prints the ratio. Every file is encrypted
by the real sops and verified natively (MAC and round trip, the key is available).
Goal (issue 14): --jobs 2 at least 1.7x faster than --jobs 1.

Usage: python bench/encrypt_all.py [--files N]
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

GOAL = 1.7


def scratch_env(home: Path, key_file: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"), "SOPS_AGE_KEY_FILE": str(key_file),
            "SOPS_DISABLE_VERSION_CHECK": "1", "GNUPGHOME": str(home / ".gnupg"),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": str(home / ".gitconfig")}


def make_repo(root: Path, count: int, recipient: str, env: dict[str, str]) -> None:
    root.mkdir()
    (root / ".sops.yaml").write_text(
        "creation_rules:\n  - path_regex: .*\\.yaml$\n    encrypted_regex: ^(data|stringData)$"
        f"\n    age: {recipient}\n")
    for i in range(count):
        folder = root / "clusters" / f"app-{i % 25:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"secret-{i:04d}.yaml").write_text(
            f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-{i}\nstringData:\n"
            f"  PASSWORD: pw-{i}-{os.urandom(8).hex()}\n  PORT: \"{1000 + i}\"\n")
    subprocess.run(["git", "init", "-q", str(root)], env=env, check=True)


def run(repo: Path, jobs: int, env: dict[str, str]) -> float:
    argv = [sys.executable, "-m", "sopskit", "--repo", str(repo), "-q", "encrypt", "--all",
            "--jobs", str(jobs)]
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=repo, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.stderr.write(done.stderr.decode(errors="replace"))
        raise SystemExit(f"sopskit encrypt --all --jobs {jobs} failed ({done.returncode})")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500)
    count = parser.parse_args().files
    with tempfile.TemporaryDirectory(prefix="sopskit-bench-") as tmp:
        base = Path(tmp)
        (base / "home").mkdir()
        ident = pyrage.x25519.Identity.generate()
        key_file = base / "key.txt"
        key_file.write_text(f"{ident}\n")
        env = scratch_env(base / "home", key_file)
        make_repo(base / "template", count, str(ident.to_public()), env)
        times = {}
        for jobs in (1, 2):
            repo = base / f"jobs-{jobs}"
            shutil.copytree(base / "template", repo)
            times[jobs] = run(repo, jobs, env)
            print(f"--jobs {jobs}: {count} files in {times[jobs]:.2f} s "
                  f"({times[jobs] / count * 1000:.1f} ms/file)")
        ratio = times[1] / times[2]
        print(f"ratio --jobs 1 / --jobs 2: {ratio:.2f}x (goal >= {GOAL}x: "
              f"{'met' if ratio >= GOAL else 'NOT met'}); cpus: {os.cpu_count()}")
        return 0 if ratio >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
