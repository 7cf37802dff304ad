"""Debian's chromium, headless, as the tests' browser: the DOM after the page's script ran,
and screenshots. Tests skip (saying why) where chromium is not installed."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--window-size=1400,900")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("chromium is not installed (apt-get install chromium): the access page "
                    "is checked in a real browser only")
    return found


def run(page: Path, fragment: str = "", *extra: str) -> str:
    with tempfile.TemporaryDirectory(prefix="sopskit-chromium-") as profile:
        done = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", *extra,
                               page.absolute().as_uri() + (f"#{fragment}" if fragment else "")],
                              capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def dump_dom(page: Path, fragment: str = "") -> str:
    """The page's DOM once loaded (its script has run, the fragment's filters applied)."""
    return run(page, fragment, "--dump-dom")


def screenshot(page: Path, out: Path, fragment: str = "", *, dark: bool = False) -> Path:
    scheme = ("--blink-settings=preferredColorScheme=0",) if dark else ()
    run(page, fragment, f"--screenshot={out}", *scheme)
    return out
