"""The sopskit entries in the OS keyring (the `keyring` library), every call bounded in time.

One entry per age identity under the service `sopskit`, named after the registry key, plus
an index entry listing the names (the `keyring` API cannot enumerate a service). Keyring
calls can block for ever on a locked Secret Service waiting for an unlock prompt or on a
D-Bus peer that never answers, so each runs in a daemon worker thread and is abandoned after
a short timeout (`SOPSKIT_KEYRING_TIMEOUT`, default 5 s). sopskit never picks a plaintext
keyring: the fail/null backends and everything from `keyrings.alt` are refused.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import keyring
import keyring.backend
import keyring.core
import keyring.errors
from keyring.backends import chainer, fail, null

from sopskit.errors import KeyringError, UsageError

SERVICE = "sopskit"
INDEX = "__sopskit_index__"  # the entry listing every stored name (JSON array)
DEFAULT_TIMEOUT = 5.0
TIMEOUT_ENV = "SOPSKIT_KEYRING_TIMEOUT"
ALTERNATIVES = ("use SOPS_AGE_KEY_FILE, --identity FILE or SOPS_AGE_KEY (a 0600 keys file) "
                "instead")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")

T = TypeVar("T")


@dataclass(frozen=True)
class KeyringStatus:
    """What `sopskit doctor` reports about the OS keyring."""

    backend: str  # dotted class name, e.g. "keyring.backends.SecretService.Keyring"; "" if none
    usable: bool
    reason: str | None = None  # one line: why it is not usable
    entries: tuple[str, ...] = ()  # names of the identities sopskit keeps there
    default_skip: str | None = None  # why `discover()` leaves it alone by default, if it does


def check_name(name: str) -> str:
    """A keyring entry name (a registry key name): letters, digits, `._@+-`."""
    if name == INDEX or not _NAME.match(name):
        raise UsageError(f"invalid identity name {name!r}: use letters, digits and ._@+- "
                         "(at most 100 characters)")
    return name


def timeout_from(env: Mapping[str, str]) -> float:
    raw = env.get(TIMEOUT_ENV, "")
    try:
        value = float(raw) if raw else DEFAULT_TIMEOUT
    except ValueError as exc:
        raise UsageError(f"{TIMEOUT_ENV} must be a number of seconds, not {raw!r}") from exc
    return value if value > 0 else DEFAULT_TIMEOUT


def bounded(fn: Callable[[], T], what: str, timeout: float) -> T:
    """`fn()` in a daemon thread; KeyringError when it fails or does not return in time.

    A daemon thread, not an executor: an abandoned call must not keep the process alive."""
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the caller's thread below
            box["error"] = exc

    worker = threading.Thread(target=work, name="sopskit-keyring", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise KeyringError(f"the OS keyring did not answer within {timeout:g}s while {what} "
                           f"(locked, or waiting for an unlock prompt?); {ALTERNATIVES}")
    if "error" in box:
        error: BaseException = box["error"]
        mapped = translate(error, what)
        if mapped is error:
            raise error
        raise mapped from error
    return box["value"]  # type: ignore[no-any-return]


def translate(exc: BaseException, what: str) -> BaseException:
    """A keyring / D-Bus failure as one KeyringError line; other errors unchanged."""
    if isinstance(exc, KeyringError | UsageError) or not isinstance(exc, Exception):
        return exc
    if isinstance(exc, keyring.errors.KeyringLocked):
        detail = "the keyring is locked (unlock it, e.g. by logging in to the desktop)"
    else:
        # The backend's own text is not relayed: backends put what they were given (the
        # service, the user name, sometimes the password) into their messages.
        detail = f"{type(exc).__name__} (the backend's message is not shown)"
    return KeyringError(f"OS keyring failed while {what}: {detail}; {ALTERNATIVES}")


def backend_name(backend: keyring.backend.KeyringBackend) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def refusal(backend: keyring.backend.KeyringBackend) -> str | None:
    """Why sopskit will not keep identities in `backend`, or None when it will."""
    if isinstance(backend, fail.Keyring):
        return "no OS keyring is available (keyring chose its fail backend)"
    if isinstance(backend, null.Keyring):
        return "the keyring is disabled (null backend)"
    if type(backend).__module__.startswith("keyrings.alt"):
        return (f"refusing {backend_name(backend)}: it keeps secrets in a file, not an OS "
                "keyring")
    return None


def pick_backend(env: Mapping[str, str]) -> keyring.backend.KeyringBackend:
    """The backend `keyring` would use (PYTHON_KEYRING_BACKEND in `env` first; of a chainer,
    its first acceptable member). Call it through `bounded`: probing D-Bus can block."""
    name = env.get("PYTHON_KEYRING_BACKEND")
    try:
        backend = keyring.core.load_keyring(name) if name else keyring.get_keyring()
    except (ImportError, AttributeError, ValueError) as exc:
        raise KeyringError(f"PYTHON_KEYRING_BACKEND={name} is not a keyring backend; "
                           f"{ALTERNATIVES}") from exc
    except RuntimeError as exc:  # the backend's priority check: not viable here
        raise KeyringError(f"no usable OS keyring ({name} is not viable here); "
                           f"{ALTERNATIVES}") from exc
    except OSError as exc:  # e.g. a D-Bus address whose socket is gone
        raise KeyringError(f"no usable OS keyring (cannot reach it: {exc.strerror or exc}); "
                           f"{ALTERNATIVES}") from exc
    if isinstance(backend, chainer.ChainerBackend):
        members = list(backend.backends)
        usable = [b for b in members if refusal(b) is None]
        if not (usable or members):
            raise KeyringError(f"no usable OS keyring; {ALTERNATIVES}")
        backend = (usable or members)[0]
    return backend


def accept(backend: keyring.backend.KeyringBackend) -> keyring.backend.KeyringBackend:
    """`backend`, or KeyringError when sopskit refuses it (fail, null, keyrings.alt)."""
    reason = refusal(backend)
    if reason is not None:
        raise KeyringError(f"{reason}; {ALTERNATIVES}")
    return backend


class KeyringStore:
    """The sopskit service in one OS keyring backend. Every method may raise KeyringError."""

    def __init__(self, env: Mapping[str, str] | None = None, *, timeout: float | None = None,
                 backend: keyring.backend.KeyringBackend | None = None) -> None:
        env = os.environ if env is None else env
        self.timeout = timeout if timeout is not None else timeout_from(env)
        if backend is None:
            backend = bounded(lambda: pick_backend(env), "opening the keyring", self.timeout)
        self.backend = accept(backend)

    @property
    def name(self) -> str:
        return backend_name(self.backend)

    def names(self) -> list[str]:
        """The names in the index, sorted."""
        return bounded(self._names, "reading the sopskit index", self.timeout)

    def get(self, name: str) -> str | None:
        return bounded(lambda: self.backend.get_password(SERVICE, name),
                       f"reading {name!r}", self.timeout)

    def read_all(self) -> list[tuple[str, str | None]]:
        """Every indexed (name, secret) pair, in one bounded call (a missing entry: None)."""
        def work() -> list[tuple[str, str | None]]:
            return [(n, self.backend.get_password(SERVICE, n)) for n in self._names()]
        return bounded(work, "reading the sopskit entries", self.timeout)

    def put(self, name: str, secret: str) -> None:
        """Store `secret` as `name` and add the name to the index."""
        def work() -> None:
            self.backend.set_password(SERVICE, check_name(name), secret)
            self._write_index(sorted({*self._names(), name}))
        bounded(work, f"storing {name!r}", self.timeout)

    def delete(self, name: str) -> bool:
        """Remove `name`; False when there was no such entry."""
        def work() -> bool:
            existed = self.backend.get_password(SERVICE, name) is not None
            if existed:
                self.backend.delete_password(SERVICE, name)
            self._write_index([n for n in self._names() if n != name])
            return existed
        return bounded(work, f"removing {name!r}", self.timeout)

    def _names(self) -> list[str]:
        raw = self.backend.get_password(SERVICE, INDEX)
        if not raw:
            return []
        try:
            names = json.loads(raw)
        except ValueError:
            return []
        return sorted(n for n in names if isinstance(n, str) and _NAME.match(n))

    def _write_index(self, names: list[str]) -> None:
        self.backend.set_password(SERVICE, INDEX, json.dumps(names))


def keyring_status(env: Mapping[str, str] | None = None) -> KeyringStatus:
    """The keyring backend sopskit would use and whether it works now (never hangs)."""
    from sopskit.identity.policy import keyring_skip_reason

    env = os.environ if env is None else env
    default_skip = keyring_skip_reason(env, None)
    try:
        backend = bounded(lambda: pick_backend(env), "opening the keyring", timeout_from(env))
    except KeyringError as exc:
        configured = env.get("PYTHON_KEYRING_BACKEND", "")
        return KeyringStatus(configured, False, exc.message, (), default_skip)
    name = backend_name(backend)
    try:
        names = KeyringStore(env, backend=backend).names()
    except KeyringError as exc:
        return KeyringStatus(name, False, exc.message, (), default_skip)
    return KeyringStatus(name, True, None, tuple(names), default_skip)
