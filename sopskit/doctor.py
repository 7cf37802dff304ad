"""`sopskit doctor`: which sops and gpg are used, which keys are available (public parts)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sopskit import gpg, scratch
from sopskit.errors import SopskitError
from sopskit.identity.model import Identities
from sopskit.sops.binary import SopsBinary, locate


@dataclass(frozen=True)
class Tool:
    name: str
    path: Path | None
    version: str | None
    problem: str | None = None  # one line when the tool is unusable

    @property
    def ok(self) -> bool:
        return self.problem is None

    def as_dict(self) -> dict[str, object]:
        return {"path": str(self.path) if self.path else None, "version": self.version,
                "ok": self.ok, "problem": self.problem}


@dataclass(frozen=True)
class Diagnosis:
    sops: Tool
    gpg: Tool
    identities: Identities
    keyring: str  # one line
    identity_problem: str | None = None  # why the configured identities could not be loaded
    # private directories of killed runs (plaintext may be inside): see sopskit.scratch
    leftovers: tuple[scratch.Leftover, ...] = ()

    @property
    def ok(self) -> bool:
        return self.sops.ok and self.identity_problem is None

    def as_dict(self) -> dict[str, object]:
        """The JSON form of `sopskit doctor --format json` (public parts only)."""
        ids = self.identities
        return {"version": 1, "ok": self.ok, "sops": self.sops.as_dict(),
                "gpg": self.gpg.as_dict(),
                "identities": [{"type": "age", "recipient": i.recipient, "name": i.name,
                                "source": i.source} for i in ids.age],
                "gnupghome": str(ids.gnupghome) if ids.gnupghome is not None else None,
                "identity_problem": self.identity_problem, "notes": list(ids.notes),
                "sources": list(ids.sources), "keyring": self.keyring,
                "leftovers": [{"path": str(x.path), "kind": x.kind, "pid": x.pid,
                               "files": x.files} for x in self.leftovers]}


def check_sops(explicit: str | None) -> Tool:
    try:
        found: SopsBinary = locate(explicit)
    except SopskitError as exc:
        return Tool("sops", None, None, str(exc))
    return Tool("sops", found.path, found.version_text)


def check_gpg() -> Tool:
    try:
        path, version = gpg.version()
    except SopskitError as exc:
        found = gpg.binary()
        return Tool("gpg", Path(found) if found else None, None, exc.message)
    return Tool("gpg", path, version)


def keyring_line() -> str:
    from sopskit.identity.keyring_store import keyring_status

    status = keyring_status()
    if not status.usable:
        return f"not usable ({status.reason or 'unknown reason'})"
    line = f"{status.backend}, {len(status.entries)} sopskit identities"
    return line + (f"; not used by default: {status.default_skip}" if status.default_skip
                   else "")


def diagnose(explicit_sops: str | None, identities: Identities,
             identity_problem: str | None = None) -> Diagnosis:
    return Diagnosis(check_sops(explicit_sops), check_gpg(), identities, keyring_line(),
                     identity_problem, tuple(scratch.leftovers()))
