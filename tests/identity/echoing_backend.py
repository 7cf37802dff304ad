"""A real keyring backend (the keyring package's API, loaded by PYTHON_KEYRING_BACKEND) that
fails the way some do: with the password it was given in its exception text. sopskit must
not relay that text (issue 9, section 4)."""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.errors import PasswordSetError


class EchoingKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise PasswordSetError(f"backend refused to store {username}={password}")

    def delete_password(self, service: str, username: str) -> None:
        raise PasswordSetError(f"nothing stored for {username}")
