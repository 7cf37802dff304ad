"""The proof that a rekey did what it said, checked natively on the files as written.

Per file: its recipients are exactly the wanted ones; the MAC verifies with a recovered
data key; where the plan rotated, the data key differs from the one before (both keys only
ever in memory, compared here and dropped); and each removed recipient whose private key
we hold can no longer recover the data key (tried with that key alone).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sopskit.errors import NoIdentityError, SopskitError
from sopskit.identity.model import Identities
from sopskit.recipient import Recipient
from sopskit.sopsfile.datakey import recover_data_key
from sopskit.sopsfile.document import SopsDocument, parse
from sopskit.sopsfile.model import Format
from sopskit.sopsfile.verify import NO_ENCRYPTED_VALUES, check_structure, verify_document

Lockout = Literal["locked out", "no stanza for it", "not tested: no private key",
                  "STILL DECRYPTS"]


@dataclass(frozen=True)
class FileProof:
    path: str
    recipients_ok: bool
    mac_ok: bool | None  # None: no identity of ours recovers the data key
    key_rotated: bool | None  # None: the plan did not rotate (or it happened in an earlier run)
    removed: dict[str, Lockout] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return (self.recipients_ok and self.mac_ok is not False and self.key_rotated
                is not False and "STILL DECRYPTS" not in self.removed.values()
                and not self.problems)

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "ok": self.ok, "recipients_match": self.recipients_ok,
                "mac_verified": self.mac_ok, "data_key_rotated": self.key_rotated,
                "removed_recipients": dict(self.removed), "problems": list(self.problems)}


@dataclass(frozen=True)
class Expected:
    """What the file must show after the rekey."""

    recipients: frozenset[Recipient]
    removed: frozenset[Recipient] = frozenset()
    old_key: bytes | None = field(default=None, repr=False)  # set when the plan rotated
    key_groups: tuple[frozenset[Recipient], ...] = ()  # checked when there are several
    threshold: int | None = None


def prove(path: Path, shown: str, fmt: Format, expected: Expected,
          identities: Identities) -> FileProof:
    """Read `path` from disk and check it against `expected`."""
    try:
        doc = parse(path.read_bytes(), path=shown, fmt=fmt)
    except (OSError, SopskitError) as exc:
        return FileProof(shown, False, False, None, problems=(f"cannot read it: {exc}",))
    # A crypt rule that encrypts nothing is verify's finding, not one rekey could cause.
    problems = tuple(str(p) for p in check_structure(doc) if p.check != NO_ENCRYPTED_VALUES)
    problems += _group_problems(doc, expected)
    recipients_ok = doc.metadata.recipients == expected.recipients
    key = _key(doc, identities)
    mac_ok = None
    if key is not None:
        failed = [p for p in verify_document(doc, key).problems
                  if p.check != NO_ENCRYPTED_VALUES]
        mac_ok = not failed
        problems += tuple(str(p) for p in failed)
    rotated = None
    if expected.old_key is not None:
        rotated = None if key is None else key != expected.old_key
        if key is None:  # a rotation that cannot be seen is not proved
            problems += ("the new data key cannot be compared: no identity here opens "
                         "the file",)
    removed = {str(r): lockout(doc, r, identities) for r in sorted(expected.removed)}
    return FileProof(shown, recipients_ok, mac_ok, rotated, removed, problems)


def _group_problems(doc: SopsDocument, expected: Expected) -> tuple[str, ...]:
    """The same key groups as wanted (one group is not several that add up to the same
    recipients), and with several (Shamir) the same threshold."""
    if not expected.key_groups:
        return ()
    meta = doc.metadata
    if sorted(map(sorted, (g.recipients() for g in meta.key_groups))) != sorted(
            map(sorted, expected.key_groups)):
        return ("key groups differ from the wanted ones",)
    if len(expected.key_groups) == 1:
        return ()
    if meta.threshold != (expected.threshold or len(expected.key_groups)):
        return (f"Shamir threshold is {meta.threshold}, not {expected.threshold}",)
    return ()


def _key(doc: SopsDocument, identities: Identities) -> bytes | None:
    try:
        return recover_data_key(doc.metadata, identities, path=doc.path)
    except NoIdentityError:
        return None


def lockout(doc: SopsDocument, recipient: Recipient, identities: Identities) -> Lockout:
    """Whether `recipient` alone can still recover the file's data key."""
    if recipient.type != "age":
        # gpg cannot be limited to one secret key; a PGP key without a stanza in the file
        # has nothing to unwrap (sops unwraps stanza by stanza, keysource.go).
        stanzas = {r for g in doc.metadata.key_groups for r in g.recipients()}
        return "no stanza for it" if recipient not in stanzas else "STILL DECRYPTS"
    ident = identities.find(recipient.id)
    if ident is None:
        return "not tested: no private key"
    try:
        recover_data_key(doc.metadata, Identities((ident,)), path=doc.path)
    except NoIdentityError:
        return "locked out"
    return "STILL DECRYPTS"
