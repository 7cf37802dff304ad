"""Checks of single registry values; each returns the normal form or raises ValueError with
a message that names the problem (the caller adds the file, line and key path)."""

from __future__ import annotations

import re
from datetime import date, datetime

import pyrage

from sopskit import regex as re2go
from sopskit.recipient import normalise_fingerprint

_PQ_RECIPIENT = re.compile(r"age1pq1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{1900,2000}\Z")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")
_FPR_RE = re.compile(r"^[0-9A-F]{40}$")
_SSH_PREFIXES = ("ssh-ed25519 ", "ssh-rsa ")


def age_recipient(value: str) -> str:
    """An age X25519 recipient (bech32 checksum checked by pyrage) or an ssh public key."""
    text = value.strip()
    if text.startswith(_SSH_PREFIXES):
        try:
            pyrage.ssh.Recipient.from_str(text)
        except Exception as exc:  # pyrage raises its own RecipientError
            raise ValueError(f"invalid ssh recipient for age ({exc})") from None
        return text
    if not text.startswith("age1"):
        raise ValueError("not an age recipient (expected age1... or an ssh public key)")
    if text.startswith("age1pq1"):
        # post-quantum (ML-KEM-768 + X25519, sops >= 3.11): pyrage cannot parse it, so only
        # its bech32 shape is checked here; sops checks the rest when it encrypts
        if not _PQ_RECIPIENT.match(text):
            raise ValueError("invalid post-quantum age recipient (age1pq1... in bech32)")
        return text
    try:
        pyrage.x25519.Recipient.from_str(text)
    except Exception as exc:
        raise ValueError(f"invalid age recipient: {_age_reason(str(exc))}") from None
    return text


def _age_reason(message: str) -> str:
    lowered = message.lower()
    if "checksum" in lowered or "bech32" in lowered:
        return "bad bech32 encoding or checksum (a typo, or a truncated copy)"
    return message


def fingerprint(value: str) -> str:
    """A v4 PGP fingerprint: 40 hex digits, spaces allowed; upper-case without spaces."""
    normal = normalise_fingerprint(value)
    if not _FPR_RE.match(normal):
        raise ValueError("malformed PGP fingerprint: expected 40 hex digits (spaces allowed),"
                         f" got {len(normal)} characters")
    return normal


def a_date(value: object) -> date:
    """A YAML date (`2026-01-10`) or an ISO date string."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError("not a date (use YYYY-MM-DD)")


def name(value: str, what: str) -> str:
    if not NAME_RE.match(value):
        raise ValueError(f"invalid {what} name {value!r}: use letters, digits and ._@+-")
    return value


# The id sops writes for each service key (`_other_id` in sopsfile/metadata.py, the
# master keys' ToString in sops' */keysource.go), which a file's recipients are compared by.
SERVICE_ID_HELP = {
    "kms": "the key ARN, arn:aws:kms:REGION:ACCOUNT:key/ID, with +ROLE_ARN when a role is used",
    "gcp_kms": "projects/P/locations/L/keyRings/R/cryptoKeys/K",
    "azure_kv": "https://VAULT.vault.azure.net/keys/NAME/VERSION",
    "hc_vault": "https://VAULT:8200/v1/ENGINE/keys/NAME",
    "hckms": "the HuaweiCloud KMS key id, REGION:KEY_ID",
}
_SERVICE_ID = {
    "kms": re.compile(r"arn:aws[\w-]*:kms:[\w-]+:\d{12}:(?:key|alias)/\S+\Z"),
    "gcp_kms": re.compile(r"projects/[^/\s]+/locations/[^/\s]+/keyRings/[^/\s]+/"
                          r"cryptoKeys/[^/\s]+\Z"),
    "azure_kv": re.compile(r"https://[^/\s]+/keys/[^/\s]+/[^/\s]*\Z"),
    "hc_vault": re.compile(r"https?://[^/\s]+/v1/\S+/keys/[^/\s]+\Z"),
    "hckms": re.compile(r"[\w-]+:[\w-]+\Z"),
}


def service_id(kind: str, value: str) -> str:
    """A cloud KMS / Vault key id in the form sops stores it (checked by shape only: the
    key itself is reachable only by sops, with the service's credentials)."""
    text = value.strip()
    if not _SERVICE_ID[kind].match(text):
        raise ValueError(f"not a {kind} key id as sops writes it ({SERVICE_ID_HELP[kind]})")
    return text


def crypt_regex(value: str) -> str:
    """A regex sops (Go RE2) accepts; sops would silently ignore any other."""
    try:
        re2go.compile(value)
    except re2go.InvalidRegex as exc:
        raise ValueError(f"not a valid RE2 regular expression ({re2go.short(exc)}), "
                         "which sops would ignore") from None
    return value
