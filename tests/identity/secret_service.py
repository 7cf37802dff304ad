"""A real Secret Service for tests: gnome-keyring-daemon on a private D-Bus session bus.

Recipe (works headless, no X, no systemd user session):

    dbus-run-session -- sh start.sh ADDR_FILE PASSWORD
      start.sh: printf %s "$PASSWORD" | gnome-keyring-daemon --foreground --unlock \
                    --components=secrets &
                wait until the bus name org.freedesktop.secrets has an owner (dbus-send),
                write $DBUS_SESSION_BUS_ADDRESS to ADDR_FILE, wait

`--unlock` reads a password on stdin and creates/unlocks the "login" collection, which
becomes the default collection `keyring` writes to. The password must not be empty (an empty
one leaves no default collection, and creating one needs a prompt, which is dismissed
headless). HOME / XDG_DATA_HOME / XDG_RUNTIME_DIR point into a scratch directory, so the
user's keyring is never touched. The whole process group is killed at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

BACKEND = "keyring.backends.SecretService.Keyring"
NEEDED = ("dbus-run-session", "dbus-send", "gnome-keyring-daemon", "secret-tool")
START_TIMEOUT = 20.0

_SCRIPT = """\
set -u
printf '%s' "$2" | gnome-keyring-daemon --foreground --unlock --components=secrets \\
    >"$1.log" 2>&1 &
i=0
while [ $i -lt 400 ]; do
  if dbus-send --session --print-reply --dest=org.freedesktop.DBus / \\
       org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null \\
       | grep -q true; then
    break
  fi
  i=$((i+1)); sleep 0.05
done
echo "$DBUS_SESSION_BUS_ADDRESS" >"$1.tmp" && mv "$1.tmp" "$1"
wait
"""


def missing_tools() -> list[str]:
    return [tool for tool in NEEDED if shutil.which(tool) is None]


class SecretService:
    """One gnome-keyring Secret Service on its own session bus, unlocked with `password`."""

    def __init__(self, root: Path, password: str = "sopskit-test-password") -> None:
        self.root = root
        self.password = password
        self.address = ""
        self.proc: subprocess.Popen[bytes] | None = None

    def daemon_env(self) -> dict[str, str]:
        home = self.root / "home"
        runtime = self.root / "run"
        for path in (home / ".local" / "share", home / ".config", runtime):
            path.mkdir(parents=True, exist_ok=True)
        runtime.chmod(0o700)
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
                "XDG_DATA_HOME": str(home / ".local" / "share"),
                "XDG_CONFIG_HOME": str(home / ".config"), "XDG_RUNTIME_DIR": str(runtime),
                "LANG": "C.UTF-8"}

    def start(self) -> SecretService:
        script = self.root / "start.sh"
        script.write_text(_SCRIPT)
        addr = self.root / "bus-address"
        self.proc = subprocess.Popen(
            ["dbus-run-session", "--", "sh", str(script), str(addr), self.password],
            env=self.daemon_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while not addr.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("gnome-keyring-daemon did not start: "
                                   + self._log())
            time.sleep(0.05)
        self.address = addr.read_text().strip()
        return self

    def _log(self) -> str:
        log = self.root / "bus-address.log"
        return log.read_text(errors="replace")[-500:] if log.exists() else "(no log)"

    @property
    def client_env(self) -> dict[str, str]:
        """What a client process needs to use this Secret Service through `keyring`."""
        return {"DBUS_SESSION_BUS_ADDRESS": self.address, "PYTHON_KEYRING_BACKEND": BACKEND}

    def secret_tool(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {**self.daemon_env(), "DBUS_SESSION_BUS_ADDRESS": self.address}
        return subprocess.run(["secret-tool", *args], env=env, input=input, text=True,
                              capture_output=True, timeout=30, check=False)

    def clear(self, service: str = "sopskit") -> None:
        """Delete every item of `service` (all sopskit entries and the index)."""
        for _ in range(50):  # `secret-tool clear` removes the matching items
            if not self.secret_tool("search", "--all", "service", service).stdout.strip():
                return
            self.secret_tool("clear", "service", service)
        raise RuntimeError("could not clear the test keyring")

    def lock(self) -> None:
        """Lock the login collection: reading it then needs an unlock prompt."""
        # secretstorage in a child with this bus (`secret-tool lock` waits for ever here)
        code = ("import secretstorage\n"
                "c = secretstorage.get_default_collection(secretstorage.dbus_init())\n"
                "c.lock()\nassert c.is_locked()\n")
        env = {**self.daemon_env(), "DBUS_SESSION_BUS_ADDRESS": self.address}
        subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=30,
                       check=True)

    def stop(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None
