"""Fixtures: every test runs with a scratch HOME / GNUPGHOME / XDG dirs and no SOPS_* vars."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import UPSTREAM_KEY, AgeKey, GpgHome, age_key


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory,
                 monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never the user's home, keyring, GNUPGHOME or sops keys."""
    home = tmp_path_factory.mktemp("home")
    for var in list(__import__("os").environ):
        # CI=true (set by the CI runner) changes sopskit's keyring policy: tests that need
        # it set it themselves
        if var.startswith(("SOPS_", "SOPSKIT_")) or var in (
                "EDITOR", "VISUAL", "GNUPGHOME", "DBUS_SESSION_BUS_ADDRESS", "CI", "NO_COLOR"):
            monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(home / "run"))
    monkeypatch.setenv("GNUPGHOME", str(home / ".gnupg-unused"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("SOPS_DISABLE_VERSION_CHECK", "1")
    return home


@pytest.fixture
def age() -> AgeKey:
    return age_key()


@pytest.fixture(scope="session")
def upstream_gpg() -> Iterator[GpgHome]:
    """A scratch GNUPGHOME holding the sops functional-test private keys."""
    home = GpgHome()
    home.import_key(UPSTREAM_KEY)
    yield home
    home.close()


@pytest.fixture(scope="session")
def gpg_home() -> Iterator[GpgHome]:
    """A scratch GNUPGHOME with one freshly generated key (fingerprint in .fp)."""
    home = GpgHome()
    home.fp = home.generate()  # type: ignore[attr-defined]
    yield home
    home.close()
