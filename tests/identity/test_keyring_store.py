"""KeyringStore against a real Secret Service, and the refusals / timeouts without one."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from sopskit.errors import KeyringError, UsageError
from sopskit.identity.discover import discover
from sopskit.identity.keyring_store import KeyringStore, keyring_status
from sopskit.identity.manage import ensure_storable, store_secret
from tests.helpers import age_key
from tests.identity.secret_service import SecretService


def test_put_get_names_delete_in_real_secret_service(secret_service: SecretService) -> None:
    store = KeyringStore()
    a, b = age_key(), age_key()
    store.put("ops-admin", a.secret)
    store.put("dev-alice", b.secret)
    assert store.names() == ["dev-alice", "ops-admin"]
    assert store.get("ops-admin") == a.secret
    assert dict(store.read_all()) == {"ops-admin": a.secret, "dev-alice": b.secret}
    # the entry really is in the Secret Service, findable by other tools
    found = secret_service.secret_tool("lookup", "service", "sopskit", "username", "ops-admin")
    assert found.stdout == a.secret
    assert store.delete("ops-admin") is True
    assert store.delete("ops-admin") is False
    assert store.names() == ["dev-alice"]
    assert store.get("ops-admin") is None


def test_status_reports_usable_secret_service(secret_service: SecretService) -> None:
    KeyringStore().put("ops-admin", age_key().secret)
    status = keyring_status()
    assert status.usable and status.reason is None
    assert status.backend == "keyring.backends.SecretService.Keyring"
    assert status.entries == ("ops-admin",)
    assert status.default_skip is None


def test_fail_backend_is_refused_with_alternatives() -> None:
    # conftest selects keyring's fail backend: what a headless machine without D-Bus gets
    with pytest.raises(KeyringError) as err:
        KeyringStore()
    assert "no OS keyring is available" in err.value.message
    assert "SOPS_AGE_KEY_FILE" in err.value.message and "--identity" in err.value.message
    status = keyring_status()
    assert not status.usable and "no OS keyring" in (status.reason or "")


def test_null_backend_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    with pytest.raises(KeyringError, match="disabled"):
        KeyringStore()


def test_secret_service_without_daemon_is_a_clear_error(monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: os.PathLike[str]) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.SecretService.Keyring")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/nobody-listens")
    with pytest.raises(KeyringError, match="no usable OS keyring"):
        KeyringStore()


def test_locked_collection_fails_fast(locked_service: SecretService) -> None:
    store = KeyringStore()
    with pytest.raises(KeyringError, match="locked"):
        store.names()
    status = keyring_status()
    assert not status.usable and "locked" in (status.reason or "")


def test_bus_that_never_answers_times_out(silent_bus: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOPSKIT_KEYRING_TIMEOUT", "0.5")
    started = time.monotonic()
    with pytest.raises(KeyringError, match=r"did not answer within 0\.5s"):
        KeyringStore()
    # a bounded wait, not a hang (generous margin: shared CI machines)
    assert time.monotonic() - started < 30
    status = keyring_status()
    assert not status.usable and "did not answer" in (status.reason or "")


def test_invalid_timeout_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOPSKIT_KEYRING_TIMEOUT", "soon")
    with pytest.raises(Exception, match="SOPSKIT_KEYRING_TIMEOUT"):
        KeyringStore()


def test_generated_key_handed_to_the_keyring(secret_service: SecretService) -> None:
    key = age_key()
    ensure_storable("flux-sandbox")
    said = store_secret("flux-sandbox", key.secret)
    assert said == ("private key of flux-sandbox stored in the OS keyring "
                    "(keyring.backends.SecretService.Keyring)")
    assert key.secret not in said
    assert KeyringStore().get("flux-sandbox") == key.secret
    with pytest.raises(UsageError, match="already holds"):
        ensure_storable("flux-sandbox")


def test_generated_key_without_keyring_is_refused_before_generating() -> None:
    with pytest.raises(KeyringError, match="no OS keyring"):
        ensure_storable("flux-sandbox")


def test_status_says_when_discover_leaves_the_keyring_alone(
        secret_service: SecretService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    status = keyring_status()
    assert status.usable  # doctor still checks it works
    assert status.default_skip == "keyring not consulted: CI is set (pass --keyring to use it)"


def test_plaintext_keyring_is_never_used(monkeypatch: pytest.MonkeyPatch,
                                         isolated_env: Path) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    with pytest.raises(KeyringError) as err:
        KeyringStore().put("ops-admin", age_key().secret)
    assert "refusing keyrings.alt.file.PlaintextKeyring" in err.value.message
    assert "SOPS_AGE_KEY_FILE" in err.value.message
    assert not any(p.is_file() for p in isolated_env.rglob("*"))  # nothing written anywhere
    status = keyring_status()
    assert status.backend == "keyrings.alt.file.PlaintextKeyring" and not status.usable
    ids = discover()
    assert any("keyring skipped: refusing keyrings.alt" in n for n in ids.notes)
