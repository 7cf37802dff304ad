"""`make demo` keeps its identities in the OS keyring when one is usable, says so, and
removes them at the end (real Secret Service)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sopskit.identity.keyring_store import KeyringStore
from tests.identity.secret_service import SecretService


@pytest.mark.slow  # the whole demo against a real Secret Service: ~40 s on 2 busy cores
def test_demo_uses_a_usable_keyring_and_cleans_up(secret_service: SecretService) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    done = subprocess.run([sys.executable, "-m", "sopskit.cli.demo"], capture_output=True,
                          text=True, timeout=300, check=False, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert "OS keyring usable" in done.stdout
    assert "source: keyring:ops-admin" in done.stdout or "keyring:ops-admin" in done.stdout
    assert "AGE-SECRET-KEY" not in done.stdout
    assert KeyringStore().names() == []  # the demo's entries are gone
