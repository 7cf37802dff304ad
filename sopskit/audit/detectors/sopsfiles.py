"""Checks of files that carry sops metadata: key-less structure (integrity category), a
plaintext value at an encrypted path (plaintext category), and with a data key the MAC.

The checks themselves are `sopsfile.verify`'s; this module maps its stable check names to
audit rules and finds the value of a plaintext leaf so that it can be fingerprinted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sopskit.audit.detectors.source import Hit
from sopskit.errors import InputError
from sopskit.sopsfile import document
from sopskit.sopsfile.document import (
    NotSopsFile,
    SopsDocument,
    detect_format,
    looks_like_sops,
    parse,
)
from sopskit.sopsfile.model import Format
from sopskit.sopsfile.verify import Problem, check_structure, verify_document

CHECK_RULES = {
    "parse": "sops-parse-error",
    "metadata": "sops-metadata-invalid",
    "mac-missing": "sops-mac-missing",
    "plaintext-value": "sops-plaintext-value",
    "malformed-value": "sops-value-malformed",
    "ciphertext-at-plaintext-path": "sops-ciphertext-at-plaintext-path",
    "no-encrypted-values": "sops-no-encrypted-values",
    "mac": "sops-mac-mismatch",
    "decrypt": "sops-decrypt-failed",
}


def is_candidate(data: bytes, fmt: Format) -> bool:
    """Content that claims to be a sops file (a broken one included)."""
    if fmt in ("json", "binary") and data.lstrip()[:1] != b"{":
        return False  # a sops JSON or binary file is a JSON object
    if looks_like_sops(data, fmt):
        return True
    if fmt == "dotenv":
        return b"sops_lastmodified=" in data
    if fmt == "ini":
        return b"[sops]" in data
    return b"sops" in data and b"lastmodified" in data and b"version" in data


def orphan_ciphertext_line(data: bytes, path: str) -> int | None:
    """Where a data file without sops metadata holds its first sops ciphertext (see
    `sopsfile.document.orphan_ciphertext_line`); None otherwise."""
    return document.orphan_ciphertext_line(data, detect_format(path))


@dataclass
class Parsed:
    """A sops file parsed (or the problem that stopped parsing)."""

    document: SopsDocument | None
    error: InputError | None


def parse_candidate(data: bytes, path: str) -> Parsed | None:
    """None when the file is not a sops file at all."""
    fmt = detect_format(path)
    if not is_candidate(data, fmt):
        return None
    try:
        return Parsed(parse(data, path=path, fmt=fmt), None)
    except NotSopsFile:
        return None
    except InputError as exc:
        return Parsed(None, exc)


def check(parsed: Parsed, data_key: bytes | None) -> Iterator[Hit]:
    if parsed.document is None:
        err = parsed.error
        assert err is not None
        yield Hit("sops-parse-error", err.line, "", f"cannot parse: {err.message}")
        return
    doc = parsed.document
    problems = (verify_document(doc, data_key).problems if data_key is not None
                else check_structure(doc))
    plain = _plaintext_values(doc)
    for p in problems:
        yield _hit(p, plain)



def _hit(p: Problem, plain: dict[tuple[str, int | None], str]) -> Hit:
    rule = CHECK_RULES.get(p.check, "sops-metadata-invalid")
    where = f"{p.key_path}: " if p.key_path else ""
    secret = plain.get((p.key_path or "", p.line), "") if rule == "sops-plaintext-value" else ""
    return Hit(rule, p.line, secret, f"{where}{p.message}")


def _plaintext_values(doc: SopsDocument) -> dict[tuple[str, int | None], str]:
    return {(leaf.key_path, leaf.line): str(leaf.value) for leaf in doc.leaves()
            if leaf.encrypted and not leaf.is_comment and not str(leaf.value).startswith("ENC[")}
