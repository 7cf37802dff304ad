"""Age identities from files and the environment, as sops defines those sources
(`age/keysource.go: MasterKey.loadIdentities`; sops-format.md 2.2).

Unlike sops, nothing is probed silently: `~/.ssh/id_*` is never read; an ssh key is used
only when named (`--identity FILE`, `SOPS_AGE_SSH_PRIVATE_KEY_FILE`).
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from sopskit import process
from sopskit.errors import BinaryError, InputError
from sopskit.identity.parse import (
    MAX_KEY_FILE,
    Found,
    Passphrase,
    parse_keys_text,
    read_key_file,
)

KEY_CMD_TIMEOUT = 30.0


def from_files(paths: Sequence[Path | str], passphrase: Passphrase | None = None) -> Found:
    """`--identity FILE`: age keys files or ssh private keys, in the order given."""
    found = Found()
    for path in map(Path, paths):
        found.extend(read_key_file(path, source=f"--identity {path}", passphrase=passphrase))
    return found


def from_env(env: Mapping[str, str], passphrase: Passphrase | None = None) -> Found:
    """SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD, SOPS_AGE_SSH_PRIVATE_KEY_FILE."""
    found = Found()
    if env.get("SOPS_AGE_KEY"):
        found.extend(parse_keys_text(env["SOPS_AGE_KEY"], source="SOPS_AGE_KEY"))
    if env.get("SOPS_AGE_KEY_FILE"):
        path = Path(env["SOPS_AGE_KEY_FILE"]).expanduser()
        found.extend(read_key_file(path, source=f"SOPS_AGE_KEY_FILE={path}",
                                   passphrase=passphrase))
    if env.get("SOPS_AGE_KEY_CMD"):
        found.extend(from_command(env["SOPS_AGE_KEY_CMD"], env))
    if env.get("SOPS_AGE_SSH_PRIVATE_KEY_FILE"):
        path = Path(env["SOPS_AGE_SSH_PRIVATE_KEY_FILE"]).expanduser()
        found.extend(read_key_file(path, source=f"SOPS_AGE_SSH_PRIVATE_KEY_FILE={path}"))
    return found


def from_command(command: str, env: Mapping[str, str]) -> Found:
    """SOPS_AGE_KEY_CMD: split like sops (shlex), run with the user's environment and a
    timeout, its stdout parsed as a keys file. Its stderr is not relayed (it may hold keys)."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise InputError(f"SOPS_AGE_KEY_CMD cannot be split into words ({exc})") from exc
    if not argv:
        raise InputError("SOPS_AGE_KEY_CMD is empty")
    try:
        done = process.run(argv, env=dict(env), timeout=KEY_CMD_TIMEOUT,
                           max_output=MAX_KEY_FILE)
    except BinaryError as exc:
        raise InputError(f"SOPS_AGE_KEY_CMD: {exc}") from None
    if done.returncode != 0:
        raise InputError(f"SOPS_AGE_KEY_CMD ({argv[0]}) failed with exit code {done.returncode}")
    try:
        text = done.stdout.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("SOPS_AGE_KEY_CMD printed something that is not text") from exc
    return parse_keys_text(text, source="SOPS_AGE_KEY_CMD")


def default_keys_path(env: Mapping[str, str], platform: str = sys.platform) -> Path | None:
    """Where sops looks for keys.txt: Go's os.UserConfigDir + sops/age/keys.txt (sops
    honours XDG_CONFIG_HOME on macOS too, then ~/Library/Application Support)."""
    xdg = env.get("XDG_CONFIG_HOME")
    home = env.get("HOME")
    if platform == "win32":
        base = env.get("APPDATA")
    elif xdg:
        base = xdg
    elif not home:
        return None
    elif platform == "darwin":
        base = str(Path(home) / "Library" / "Application Support")
    else:
        base = str(Path(home) / ".config")
    return Path(base) / "sops" / "age" / "keys.txt" if base else None


def from_default_file(env: Mapping[str, str], passphrase: Passphrase | None = None) -> Found:
    """The default keys.txt, when it exists (sops ignores a missing one)."""
    path = default_keys_path(env)
    if path is None or not path.is_file():
        return Found()
    return read_key_file(path, source=f"default keys.txt {path}", passphrase=passphrase)
