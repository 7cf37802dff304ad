"""When `discover()` may consult the OS keyring without being asked.

CI has no keyring (or a locked one that could block), and a user who set `SOPS_AGE_KEY` or
`SOPS_AGE_KEY_FILE` has said where the keys are; in both cases the keyring is left alone
unless the caller asks for it (`use_keyring=True`, `--keyring`).
"""

from __future__ import annotations

from collections.abc import Mapping

_TRUE = {"1", "true", "yes", "on"}


def keyring_skip_reason(env: Mapping[str, str], use_keyring: bool | None) -> str | None:
    """Why the keyring is not consulted, or None when it is."""
    if use_keyring is True:
        return None
    if use_keyring is False:
        return "keyring not consulted (--no-keyring)"
    if env.get("CI", "").strip().lower() in _TRUE:
        return "keyring not consulted: CI is set (pass --keyring to use it)"
    for var in ("SOPS_AGE_KEY", "SOPS_AGE_KEY_FILE"):
        if env.get(var):
            return f"keyring not consulted: {var} is set (pass --keyring to use it too)"
    return None
