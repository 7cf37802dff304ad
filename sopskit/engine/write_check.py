"""Native verification of what sops wrote, before it may replace anything.

Numbered steps that raise (in the manner of sigstore-python's verifier):
1. it parses as a sops file and passes the key-less structure checks;
2. its recipients are exactly the ones requested, its crypt rule the one requested;
3. with an identity: the data key is recovered and the MAC and every value verify;
4. the data key changed (rotate) or stayed (updatekeys, edit), compared in memory only;
5. the decrypted content equals the intended plaintext (encrypt, rotate).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sopskit.engine.roundtrip import same_content
from sopskit.errors import NoIdentityError, VerificationError
from sopskit.identity.model import Identities
from sopskit.recipient import Recipient
from sopskit.sopsfile.datakey import recover_data_key
from sopskit.sopsfile.document import SopsDocument, parse
from sopskit.sopsfile.model import DEFAULT_CRYPT_RULE, CryptRule, Format
from sopskit.sopsfile.verify import (
    NO_ENCRYPTED_VALUES,
    Problem,
    check_structure,
    verify_document,
)


@dataclass(frozen=True)
class Expect:
    """What a written file must satisfy. `None` fields are not checked."""

    recipients: frozenset[Recipient] | None = None
    # (key groups, Shamir threshold) when the grouping matters: with two groups of one key
    # each, both keys are needed; one group of the same two keys lets either decrypt alone.
    groups: tuple[tuple[frozenset[Recipient], ...], int | None] | None = None
    crypt: tuple[CryptRule | None, bool] | None = None  # (crypt rule, mac_only_encrypted)
    plaintext: bytes | None = None  # the intended plaintext, in the file's own format
    key_changed_from: bytes | None = None
    key_same_as: bytes | None = None
    require_key: bool = False  # fail when no identity can recover the data key
    # A new file must encrypt something (encrypt): sops writes a file whose crypt rule
    # matches no key with every value in plaintext. Reading an existing file (decrypt,
    # edit, set) must still work on such a file, so the check is off by default there.
    some_encrypted: bool = False


@dataclass(frozen=True)
class Checked:
    """The outcome of a passed check: the data key when it could be recovered."""

    data_key: bytes | None
    document: SopsDocument

    @property
    def mac_checked(self) -> bool:
        return self.data_key is not None


def fail(problem: Problem, path: str) -> VerificationError:
    return VerificationError(problem.message, check=problem.check, path=path,
                             line=problem.line, key_path=problem.key_path)


def check_bytes(data: bytes, *, path: str, fmt: Format, identities: Identities,
                expect: Expect) -> Checked:
    """Run steps 1-5 on `data` (the bytes of the written file); raise on the first failure."""
    doc = parse(data, path=path, fmt=fmt)
    problems = [p for p in check_structure(doc)
                if expect.some_encrypted or p.check != NO_ENCRYPTED_VALUES]
    if problems:
        raise fail(problems[0], path)
    _check_recipients(doc, expect, path)
    _check_groups(doc, expect, path)
    _check_crypt(doc, expect, path)
    key = _data_key(doc, identities, expect, path)
    if key is None:
        return Checked(None, doc)
    report = verify_document(doc, key)
    failed = [p for p in report.problems if p.check != NO_ENCRYPTED_VALUES]
    if failed:
        raise fail(failed[0], path)
    _check_key_change(key, expect, path)
    if expect.plaintext is not None and not same_content(
            decrypt(doc, key), expect.plaintext, fmt):
        raise VerificationError("decrypting the new file does not give back the intended "
                                "content; nothing was replaced", check="roundtrip", path=path)
    return Checked(key, doc)


def decrypt(doc: SopsDocument, key: bytes) -> bytes:
    """What `sops decrypt` prints for `doc` (sopsfile.decrypt)."""
    from sopskit.sopsfile.decrypt import decrypt_document  # only writes need it

    return decrypt_document(doc, key)


def check_path(temp: Path, *, path: str, fmt: Format, identities: Identities,
               expect: Expect) -> Checked:
    """`check_bytes` on what is actually on disk at `temp` (reported as `path`)."""
    return check_bytes(temp.read_bytes(), path=path, fmt=fmt, identities=identities,
                       expect=expect)


def _check_recipients(doc: SopsDocument, expect: Expect, path: str) -> None:
    if expect.recipients is None:
        return
    got = doc.metadata.recipients
    if got != expect.recipients:
        missing = sorted(str(r) for r in expect.recipients - got)
        extra = sorted(str(r) for r in got - expect.recipients)
        raise VerificationError(
            f"recipients differ from the requested ones (missing: {', '.join(missing) or '-'};"
            f" unexpected: {', '.join(extra) or '-'})", check="recipients", path=path)


def _check_groups(doc: SopsDocument, expect: Expect, path: str) -> None:
    if expect.groups is None:
        return
    wanted, threshold = expect.groups
    meta = doc.metadata
    got = Counter(g.recipients() for g in meta.key_groups)
    want_threshold = (threshold or len(wanted)) if len(wanted) > 1 else 1
    if got != Counter(wanted) or (len(wanted) > 1 and meta.threshold != want_threshold):
        raise VerificationError(
            f"key groups differ from the requested ones ({len(meta.key_groups)} group(s), "
            f"{meta.threshold} needed; requested {len(wanted)}, {want_threshold} needed)",
            check="recipients", path=path)


def _check_crypt(doc: SopsDocument, expect: Expect, path: str) -> None:
    """The file encrypts the values the policy said (sops-format.md 1.4); the binary store
    always encrypts its one value and stores no rule (`IsSingleValueStore`)."""
    if expect.crypt is None or doc.format == "binary":
        return
    rule, mac_only = expect.crypt
    meta, wanted = doc.metadata, rule or DEFAULT_CRYPT_RULE
    if meta.effective_crypt_rule != wanted:
        raise VerificationError(
            f"values are encrypted by {meta.effective_crypt_rule.kind}="
            f"{meta.effective_crypt_rule.value!r}, not by the requested "
            f"{wanted.kind}={wanted.value!r}", check="crypt-rule", path=path)
    if meta.mac_only_encrypted != mac_only:
        raise VerificationError(
            f"mac_only_encrypted is {str(meta.mac_only_encrypted).lower()}, not the requested "
            f"{str(mac_only).lower()}", check="crypt-rule", path=path)


def _data_key(doc: SopsDocument, identities: Identities, expect: Expect,
              path: str) -> bytes | None:
    try:
        return recover_data_key(doc.metadata, identities, path=path)
    except NoIdentityError:
        if expect.require_key:
            raise
        return None


def _check_key_change(key: bytes, expect: Expect, path: str) -> None:
    if expect.key_changed_from is not None and key == expect.key_changed_from:
        raise VerificationError("the data key did not change", check="rotation", path=path)
    if expect.key_same_as is not None and key != expect.key_same_as:
        raise VerificationError("the data key changed unexpectedly", check="datakey", path=path)
