"""Verification of a sops file: key-less structure checks, then (with the data key) every
value decrypted and the MAC recomputed (sops-format.md 1.8).

Like sigstore-python's verifier, each step is a small function that raises `_Fail`; the
runner collects what they raise into a `VerifyReport`. Problems have stable check names:
`parse`, `metadata`, `plaintext-value`, `malformed-value`, `ciphertext-at-plaintext-path`,
`mac-missing`, `mac`, `decrypt`, `recipients`, `no-encrypted-values`. No message ever
contains a value.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sopskit.errors import InputError, NoIdentityError, SopskitError
from sopskit.identity.model import Identities
from sopskit.sopsfile.document import (
    DEFAULT_MAX_SIZE,
    Leaf,
    SopsDocument,
    detect_format,
    parse,
)
from sopskit.sopsfile.encvalue import EncValue, MalformedValue, looks_encrypted
from sopskit.sopsfile.model import Format

NO_ENCRYPTED_VALUES = "no-encrypted-values"
# ENC[...] types sops parses but cannot use in a tree (aes/cipher.go decrypts them fine).
UNUSABLE_TYPES = frozenset({"bytes"})


@dataclass(frozen=True)
class Problem:
    """One failed check: `check` is a stable name, `message` never holds a value."""

    check: str
    message: str
    key_path: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        key = f"{self.key_path}: " if self.key_path else ""
        return f"{where}{key}{self.message} [{self.check}]"


@dataclass
class VerifyReport:
    path: str
    ok: bool
    mac_checked: bool
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # things sops ignores; never failures

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "path": self.path, "ok": self.ok, "mac_checked": self.mac_checked,
            "errors": [{"check": p.check, "message": p.message, "key_path": p.key_path,
                        "line": p.line} for p in self.problems]}
        if self.notes:
            out["notes"] = list(self.notes)
        return out


class _Fail(Exception):
    def __init__(self, *problems: Problem) -> None:
        super().__init__(problems[0].message if problems else "")
        self.problems = problems


def _leaf_problem(check: str, message: str, leaf: Leaf) -> Problem:
    return Problem(check, message, leaf.key_path, leaf.line)


# Step 1 (key-less): the metadata block is complete and consistent.
def step_metadata(doc: SopsDocument) -> None:
    found = [Problem("metadata", i.message, i.key_path, doc.metadata_line)
             for i in doc.metadata_issues if not i.note]
    no_keys = not any(g.age or g.pgp or g.other for g in doc.metadata.key_groups)
    if no_keys and not any(p.key_path == "sops" for p in found):
        found.append(Problem("metadata", "no keys found in file", "sops", doc.metadata_line))
    if found:
        raise _Fail(*found)


# Step 2 (key-less): the file has a MAC at all.
def step_mac_present(doc: SopsDocument) -> None:
    mac = doc.metadata.mac
    if not mac:
        raise _Fail(Problem("mac-missing", "the file has no MAC (sops refuses it unless "
                            "--ignore-mac)", "sops.mac", doc.metadata_line))
    try:
        EncValue.parse(mac)
    except MalformedValue as exc:
        raise _Fail(Problem("metadata", f"MAC is malformed: {exc}", "sops.mac",
                            doc.metadata_line)) from None


# Step 3 (key-less): every value is encrypted exactly where the crypt rule says.
def step_values(doc: SopsDocument) -> None:
    found = list(_value_problems(doc))
    if found:
        raise _Fail(*found)


def _value_problems(doc: SopsDocument) -> Iterator[Problem]:
    for leaf in doc.leaves():
        value = leaf.value
        if leaf.is_comment:
            if leaf.encrypted and isinstance(value, str) and looks_encrypted(value):
                yield from _malformed(value, leaf, comment=True)
            continue  # a plaintext comment at an encrypted path is tolerated, as in sops
        if leaf.encrypted:
            if value == "":
                continue
            if not isinstance(value, str) or not looks_encrypted(value):
                yield _leaf_problem("plaintext-value", "plaintext value at an encrypted path "
                                    "(a secret pasted into an encrypted file?)", leaf)
            else:
                yield from _malformed(value, leaf, comment=False)
        elif isinstance(value, str) and looks_encrypted(value):
            yield _leaf_problem("ciphertext-at-plaintext-path", "encrypted value at a path the "
                                "crypt rule leaves in plaintext", leaf)


def _malformed(value: str, leaf: Leaf, *, comment: bool) -> Iterator[Problem]:
    what = "encrypted comment" if comment else "encrypted value"
    try:
        enc = EncValue.parse(value)
    except MalformedValue as exc:
        yield _leaf_problem("malformed-value", f"malformed {what}: {exc}", leaf)
        return
    if enc.type in UNUSABLE_TYPES:
        # sops 3.11 decrypts `bytes` to a []byte that its tree cannot hold: `sops decrypt`
        # (and so Flux) panics with "hash of unhashable type []uint8", in every store.
        yield _leaf_problem("malformed-value", f"{what} of type {enc.type}, which sops "
                            "cannot decrypt in a file (it crashes)", leaf)
    # No check that `type` fits the position: sops 3.11 writes a comment inside a list as a
    # list item of type `comment`, and decrypts any type anywhere (aes/cipher.go).


# Step 4 (key-less): something is encrypted at all. sops writes a file whose crypt rule
# matches no key (a Kubernetes `encrypted_regex` on a plain config, an invalid regex that
# sops ignores) with every value in plaintext and a valid MAC: it protects nothing.
def step_something_encrypted(doc: SopsDocument) -> None:
    if doc.format == "binary":
        return  # the binary store always encrypts its one value
    has_plaintext = False
    for leaf in doc.leaves():
        # The rule's verdict, not the stored value: a plaintext value at an encrypted path
        # is `plaintext-value`'s finding, and the rule itself does encrypt something.
        if leaf.encrypted or (isinstance(leaf.value, str) and looks_encrypted(leaf.value)):
            return
        if not leaf.is_comment and leaf.value not in ("", None):
            has_plaintext = True
    if has_plaintext:
        raise _Fail(Problem(NO_ENCRYPTED_VALUES, "no value is encrypted: the crypt rule "
                            f"{describe_rule(doc)} leaves every value in plaintext", "sops",
                            doc.metadata_line))


def describe_rule(doc: SopsDocument) -> str:
    """`kind='value'` of the file's crypt rule, cut short (the value comes from the file)."""
    rule = doc.metadata.effective_crypt_rule
    value = rule.value if len(rule.value) <= 60 else rule.value[:57] + "..."
    return f"{rule.kind}={value!r}"


STRUCTURE_STEPS: tuple[Callable[[SopsDocument], None], ...] = (
    step_metadata, step_mac_present, step_values, step_something_encrypted)


def _run(steps: tuple[Callable[[SopsDocument], None], ...], doc: SopsDocument) -> list[Problem]:
    problems: list[Problem] = []
    for step in steps:
        try:
            step(doc)
        except _Fail as fail:
            problems.extend(fail.problems)
    return problems


def check_structure(doc: SopsDocument) -> list[Problem]:
    """Every key-less check (sops-format.md 1.8); an empty list means the structure is sound."""
    return _run(STRUCTURE_STEPS, doc)


def verify_document(doc: SopsDocument, data_key: bytes | None) -> VerifyReport:
    """Structure checks, then with `data_key`: decrypt every value and check the MAC."""
    problems = check_structure(doc)
    mac_checked = False
    if data_key is not None:  # steps 4 (decrypt every value) and 5 (MAC): mac.check_mac
        from sopskit.sopsfile.mac import check_mac

        try:
            check_mac(doc, data_key)
            mac_checked = True
        except _Fail as fail:
            problems.extend(fail.problems)
        except SopskitError as exc:
            problems.append(Problem(getattr(exc, "check", "decrypt"), exc.message,
                                    exc.key_path, exc.line))
    problems = list(dict.fromkeys(problems))  # a missing MAC is found by both passes
    if any(p.check == "mac-missing" for p in problems):
        problems = [p for p in problems if p.check != "mac-missing" or p.message.endswith(
            "--ignore-mac)")]
    notes = [f"{i.key_path}: {i.message}" for i in doc.metadata_issues if i.note]
    return VerifyReport(doc.path, not problems, mac_checked, problems, notes)


def verify_file(path: str | Path, identities: Identities, *, fmt: Format | None = None,
                require_mac: bool = False, max_size: int = DEFAULT_MAX_SIZE) -> VerifyReport:
    """Read, parse and verify one file; parse errors and missing keys become problems."""
    name = str(path)
    try:
        data = _read(Path(path), max_size)
    except OSError as exc:
        return VerifyReport(name, False, False, [Problem("parse", f"cannot read: {exc.strerror}")])
    except InputError as exc:
        return VerifyReport(name, False, False, [Problem("parse", exc.message, None, exc.line)])
    return verify_bytes(data, path=name, fmt=fmt or detect_format(name), identities=identities,
                        require_mac=require_mac, max_size=max_size)


def verify_bytes(data: bytes, *, path: str, fmt: Format, identities: Identities,
                 require_mac: bool = False, max_size: int = DEFAULT_MAX_SIZE) -> VerifyReport:
    """Parse and verify the bytes of one file (shown as `path`); never raises for bad input.
    With `require_mac`, a MAC that no identity let us check is a `decrypt` failure."""
    try:
        doc = parse(data, path=path, fmt=fmt, max_size=max_size)
    except InputError as exc:
        return VerifyReport(path, False, False, [Problem("parse", exc.message, None, exc.line)])
    key, key_problem = _data_key(doc, identities)
    report = verify_document(doc, key)
    if require_mac and not report.mac_checked:
        report.problems.append(key_problem or Problem(
            "decrypt", "MAC not checked: no identity available to recover the data key"))
        report.ok = False
    return report


def _data_key(doc: SopsDocument, identities: Identities) -> tuple[bytes | None, Problem | None]:
    from sopskit.sopsfile.datakey import recover_data_key

    if identities.empty:
        return None, None
    try:
        return recover_data_key(doc.metadata, identities, path=doc.path), None
    except NoIdentityError as exc:
        return None, Problem("decrypt", exc.message)


def _read(path: Path, max_size: int) -> bytes:
    """The file's bytes; a file over the limit, or one that is not a regular file (a FIFO
    would block, /dev/zero never end), is refused before it is read."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError("not a regular file (a directory, FIFO, socket or device)",
                             path=path)
        if info.st_size > max_size:
            raise InputError(f"file is {info.st_size / 1048576:.1f} MiB, larger than the "
                             f"{max_size / 1048576:.0f} MiB limit for sops files", path=path)
        with os.fdopen(os.dup(fd), "rb") as fh:
            return fh.read()
    finally:
        os.close(fd)
