"""The one error tree and the one exit-code table of sopskit.

Library code raises these; only the CLI turns them into exit codes. A message says what
went wrong and what to do, names the file (and line / key path where known), and never
contains a secret value.
"""

from __future__ import annotations

import re
from enum import IntEnum
from pathlib import Path

# Private key material no message may carry, whoever formatted it into one (a user value
# echoed by a check, a library's exception text): age identities (X25519, post-quantum and
# plugin), and PEM / OpenSSH / PGP private key blocks, cut to their end or to the end of text.
_SECRET = re.compile(
    r"AGE-SECRET-KEY-(?:PQ-)?1[0-9A-Z]+|AGE-PLUGIN-[0-9A-Z-]+-1[0-9A-Z]+"
    r"|-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?"
    r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
    re.IGNORECASE | re.DOTALL)


def looks_secret(text: str) -> bool:
    """Whether `text` holds private key material (checked before naming a bad value)."""
    return _SECRET.search(text) is not None


def redact(text: str) -> str:
    """`text` with every private key replaced by what kind it is: the last line of defence
    behind every message (SopskitError applies it to message, path and key path)."""
    return _SECRET.sub(_kind, text) if "-" in text else text


def _kind(match: re.Match[str]) -> str:
    return ("<an age private key, not shown>" if match.group().upper().startswith("AGE-")
            else "<a private key block, not shown>")


class ExitCode(IntEnum):
    """Process exit codes. CI must tell "found problems" (1) from "tool broke" (3, 4)."""

    OK = 0
    FINDINGS = 1  # findings, or verification failed
    USAGE = 2
    OPERATIONAL = 3  # missing binary, unreadable file, no key, invalid registry
    INTERNAL = 4
    INTERRUPTED = 130


class SopskitError(Exception):
    """Base of every error sopskit raises on purpose."""

    exit_code: ExitCode = ExitCode.OPERATIONAL

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        key_path: str | None = None,
    ) -> None:
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.path = redact(str(path)) if path is not None else None
        self.line = line
        self.key_path = redact(key_path) if key_path else key_path

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        if self.key_path:
            where += f"{self.key_path}: "
        return where + self.message


class UsageError(SopskitError):
    """The command line asked for something impossible or contradictory."""

    exit_code = ExitCode.USAGE


class VerificationError(SopskitError):
    """A file failed a verification check (structure, recipients, MAC, round trip)."""

    exit_code = ExitCode.FINDINGS

    def __init__(
        self,
        message: str,
        *,
        check: str,
        path: Path | str | None = None,
        line: int | None = None,
        key_path: str | None = None,
    ) -> None:
        super().__init__(message, path=path, line=line, key_path=key_path)
        self.check = check


class InputError(SopskitError):
    """An input file cannot be read or parsed (malformed, truncated, binary junk, too big)."""


class ConfigError(SopskitError):
    """The registry or .sops.yaml is invalid; `problems` lists every one of them."""

    def __init__(self, message: str, *, path: Path | str | None = None,
                 problems: tuple[str, ...] = ()) -> None:
        super().__init__(message, path=path)
        self.problems = tuple(redact(p) for p in problems)

    def __str__(self) -> str:
        head = super().__str__()
        if not self.problems:
            return head
        return head + "\n" + "\n".join(f"  {p}" for p in self.problems)


class BinaryError(SopskitError):
    """A required program (sops, gpg) is missing, too old, or did not answer in time."""


class NoIdentityError(SopskitError):
    """No private key available to the operation can recover the data key."""


class SopsError(SopskitError):
    """The sops binary failed; `sops_exit` keeps its own exit code (sops-format.md 3.10)."""

    def __init__(self, message: str, *, sops_exit: int, path: Path | str | None = None) -> None:
        super().__init__(message, path=path)
        self.sops_exit = sops_exit


class KeyringError(SopskitError):
    """The OS keyring is missing, locked or refused the operation."""


class UnsafePathError(SopskitError):
    """A path leaves the repository (symlink or ..) or is otherwise unsafe to write."""


class Interrupted(SopskitError):
    """The user interrupted the operation; nothing was left half-done."""

    exit_code = ExitCode.INTERRUPTED


class InternalError(SopskitError):
    """A bug in sopskit."""

    exit_code = ExitCode.INTERNAL
