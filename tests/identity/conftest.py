"""Fixtures for identity tests: a real Secret Service (gnome-keyring on a private bus)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.identity.secret_service import SecretService, missing_tools

KEYRING_FIXTURES = {"secret_service", "locked_service", "silent_bus"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that use a Secret Service `keyring` (select them with -m keyring)."""
    for item in items:
        if KEYRING_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.keyring)


@pytest.fixture(scope="session")
def secret_service_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecretService]:
    """One unlocked gnome-keyring Secret Service for the session."""
    missing = missing_tools()
    if missing:
        pytest.skip(f"no Secret Service: {', '.join(missing)} not installed "
                    "(.ci/run installs gnome-keyring, dbus, libsecret-tools)")
    service = SecretService(tmp_path_factory.mktemp("secret-service")).start()
    yield service
    service.stop()


@pytest.fixture
def secret_service(isolated_env: Path, secret_service_daemon: SecretService,
                   monkeypatch: pytest.MonkeyPatch) -> SecretService:
    """The session's Secret Service, selected for this test (env), without sopskit entries."""
    secret_service_daemon.clear()
    for key, value in secret_service_daemon.client_env.items():
        monkeypatch.setenv(key, value)
    return secret_service_daemon


@pytest.fixture
def locked_service(isolated_env: Path, tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[SecretService]:
    """A Secret Service of its own whose login collection is locked."""
    if missing_tools():
        pytest.skip(f"no Secret Service: {', '.join(missing_tools())} not installed")
    service = SecretService(tmp_path_factory.mktemp("locked-service")).start()
    service.lock()
    for key, value in service.client_env.items():
        monkeypatch.setenv(key, value)
    yield service
    service.stop()


@pytest.fixture
def silent_bus(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A D-Bus address whose peer accepts connections and never answers (a hung bus)."""
    path = isolated_env / "silent-bus"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.listen(16)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={path}")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.SecretService.Keyring")
    yield str(path)
    sock.close()
