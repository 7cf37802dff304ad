"""`sopskit encrypt`: plaintext in memory -> sops (stdin/stdout) -> verified -> written.

The plaintext never touches disk: sops reads it from stdin with `--filename-override`
(which selects the store and, with the repository's .sops.yaml, the creation rule) and
prints the ciphertext, which is verified natively before it replaces anything.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sopskit import gpg
from sopskit.engine import paths, write_check
from sopskit.engine.policy import Policy
from sopskit.errors import InputError, UsageError, VerificationError
from sopskit.fsio import is_stream, replace_verified, write_to_stream
from sopskit.identity.model import Identities
from sopskit.sops.config import CreationRule
from sopskit.sops.runner import Sops
from sopskit.sopsfile.document import detect_format, looks_like_sops
from sopskit.sopsfile.model import DEFAULT_CRYPT_RULE
from sopskit.sopsfile.verify import NO_ENCRYPTED_VALUES


@contextlib.contextmanager
def encrypting_sops(sops: Sops, rule: CreationRule) -> Iterator[Sops]:
    """`sops`, or, when the rule knows every PGP recipient's public key file, the same sops
    with a scratch GNUPGHOME holding just those public keys (encrypting needs no secret
    key, and the user's keyring may lack a colleague's or a cluster's key)."""
    if not rule.pgp_key_files:
        yield sops
        return
    with gpg.scratch_home() as home:
        for key_file in rule.pgp_key_files:
            gpg.import_key_file(home, Path(key_file))
        yield Sops(sops.binary, Identities(sops.identities.age, home), timeout=sops.timeout)


@dataclass(frozen=True)
class Encrypted:
    """The result of one encryption."""

    path: str  # repository-relative source path
    ciphertext: bytes
    written_to: Path | None  # None: returned for stdout
    mac_checked: bool


def encrypt_file(source: Path, policy: Policy, *, repo: Path, sops: Sops,
                 identities: Identities, output: Path | None = None,
                 allow_no_encrypted: bool = False) -> Encrypted:
    """Encrypt `source` for `policy`; write to `output` (may equal `source`) or return it.

    `source` and `output` must be absolute paths already checked by `paths.target`.
    A result in which the crypt rule left every value in plaintext is refused (UsageError)
    unless `allow_no_encrypted`.
    """
    try:
        return _encrypt(source, policy, repo=repo, sops=sops, identities=identities,
                        output=output, allow_no_encrypted=allow_no_encrypted)
    except VerificationError as exc:
        if exc.check != NO_ENCRYPTED_VALUES:
            raise
        rule = policy.rule.crypt_rule or DEFAULT_CRYPT_RULE
        origin = f" (from {policy.rule.source})" if policy.rule.source else ""
        raise UsageError(
            f"refusing to encrypt: the crypt rule {rule.kind}={rule.value!r}{origin} "
            "matches none of its keys, so every value would stay in "
            "plaintext; fix the rule, or pass --allow-no-encrypted-values if that is intended",
            path=paths.display(repo, source)) from None


def _encrypt(source: Path, policy: Policy, *, repo: Path, sops: Sops, identities: Identities,
             output: Path | None, allow_no_encrypted: bool) -> Encrypted:
    shown = paths.display(repo, source)
    plaintext = paths.read_input(source, shown=shown)
    fmt = detect_format(str(source))
    if looks_like_sops(plaintext, fmt):
        raise UsageError("file is already encrypted with sops", path=shown)
    if fmt == "json":
        _check_json(plaintext, shown)
    ciphertext = _run_sops(plaintext, source, shown, policy, sops)
    expect = write_check.Expect(recipients=policy.recipients, plaintext=plaintext,
                          groups=(policy.rule.key_groups, policy.rule.shamir_threshold),
                          crypt=(policy.rule.crypt_rule, policy.rule.mac_only_encrypted),
                          some_encrypted=not allow_no_encrypted)
    if output is None or is_stream(output):  # a FIFO or device is written, never replaced
        done = write_check.check_bytes(ciphertext, path=shown, fmt=fmt, identities=identities,
                                 expect=expect)
        if output is not None and not write_to_stream(output, ciphertext):
            raise InputError("is no longer a FIFO or device: not written", path=output)
        return Encrypted(shown, ciphertext, output, done.mac_checked)
    result: list[write_check.Checked] = []

    def verify(temp: Path) -> None:
        result.append(write_check.check_path(temp, path=shown, fmt=fmt, identities=identities,
                                       expect=expect))

    replace_verified(output, ciphertext, verify)
    return Encrypted(shown, ciphertext, output, result[0].mac_checked)


def _check_json(plaintext: bytes, shown: str) -> None:
    """sops' JSON reader stops at the end of the input without complaint: `{"a": 1,` is
    encrypted as `{}` (sops 3.11). Without a key of ours the round trip cannot catch that,
    so invalid JSON is refused before sops sees it."""
    try:
        json.loads(plaintext.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError("file is not valid UTF-8 text", path=shown) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", path=shown, line=exc.lineno) from None


def _run_sops(plaintext: bytes, source: Path, shown: str, policy: Policy, sops: Sops) -> bytes:
    """The real sops encrypts: against the repository's .sops.yaml when that is the source
    (sops' own rule choice, cross-checked afterwards), else with exactly the policy's rule."""
    if policy.sops_config is not None:
        return sops.encrypt(plaintext, filename=str(source), config=policy.sops_config,
                            path=shown)
    with encrypting_sops(sops, policy.rule) as encrypter:
        return encrypter.encrypt(plaintext, filename=str(source), rule=policy.rule, path=shown)
