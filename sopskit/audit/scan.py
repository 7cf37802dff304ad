"""Scanning one file: skip rules, every plaintext detector, sops structure checks, inline
allows, and the merge of overlapping hits into findings. Runs in worker processes, so its
inputs (`ScanSettings`) and outputs (`FileResult`) are plain picklable values."""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from sopskit.audit import allow
from sopskit.audit.detectors import generic, kubernetes, private_keys, providers, sopsfiles
from sopskit.audit.detectors.source import Hit, Source
from sopskit.audit.detectors.unencrypted import Promise
from sopskit.audit.finding import Finding, Severity
from sopskit.audit.fingerprint import secret_fingerprint, subject_fingerprint, text_bytes
from sopskit.audit.rules import rule
from sopskit.sopsfile.kinds import is_flux_decryption_secret
from sopskit.sopsfile.model import Metadata

DEFAULT_MAX_FILE_SIZE = 2 * 1024 * 1024
VENDORED = frozenset(("vendor", "node_modules", "third_party", "bower_components", ".terraform",
                      ".venv", "venv", "site-packages", "__pycache__", ".git"))
# More specific detectors first: when two hits are the same secret, the first one is kept.
PRECEDENCE = ("sops-plaintext-value", "sops-no-encrypted-values", "flux-age-key",
              "gcp-service-account", "k8s-secret-plaintext", "kubeconfig-credential",
              "private-key", "pgp-private-key", "putty-private-key", "age-secret-key",
              "aws-secret-access-key", "azure-storage-key", "docker-config-auth")
_RANK = {r: i for i, r in enumerate(PRECEDENCE)}


@dataclass(frozen=True)
class ScanSettings:
    promise: Promise = field(default_factory=Promise)
    max_file_size: int = DEFAULT_MAX_FILE_SIZE


@dataclass
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    skipped: str | None = None  # why the file was not scanned: binary, size, vendored
    sops: Metadata | None = None  # the metadata of a parsed sops file
    sops_broken: bool = False
    # finding fingerprint -> SHA-256 of the secret (kept in memory only, for comparing a
    # value with others: `audit --history`'s plaintext-still-in-use)
    digests: dict[str, str] = field(default_factory=dict)
    # files this kustomization's secretGenerator reads: (path, "env" | "file")
    secret_sources: tuple[tuple[str, str], ...] = ()
    flux_secret: bool = False  # a Flux decryption Secret (`*.agekey` / `*.asc` entries)
    # flux.loader.holds_discovered of the bytes read (None: not read from disk), so that the
    # delivery check does not read every YAML file again
    flux_discovery: bool | None = None


def skip_reason(relpath: str, size: int, settings: ScanSettings) -> str | None:
    if any(part in VENDORED for part in relpath.split("/")[:-1]):
        return "vendored"
    if size > settings.max_file_size:
        return "size"
    return None


def scan_bytes(relpath: str, data: bytes, settings: ScanSettings,
               secret_source: str | None = None, *, located: str | None = None) -> FileResult:
    """Every check of one file's content (no git, no keys). `secret_source` ("env" or
    "file"): a kustomize secretGenerator reads this file, so each value is a Secret's.
    `located` (a commit, for `audit --history`): a value's fingerprint is that of its
    place (`located`, the path, the rule, the line and its rank there), not of the value,
    and costs no scrypt; `digests` still tell equal values apart."""
    reason = skip_reason(relpath, len(data), settings)
    data = _utf16_as_utf8(data)
    if reason is None and b"\x00" in data[:8192]:
        if _binary(data):
            reason = "binary"
        else:  # text with a few NUL bytes typed in: read it, NULs as spaces (same lines)
            data = data.replace(b"\x00", b" ")
    if reason is not None:
        return FileResult(relpath, skipped=reason)
    result = FileResult(relpath)
    parsed = sopsfiles.parse_candidate(data, relpath)
    hits: list[Hit] = []
    if parsed is not None:
        result.sops = parsed.document.metadata if parsed.document else None
        result.sops_broken = parsed.document is None
        result.flux_secret = (parsed.document is not None
                              and is_flux_decryption_secret(parsed.document))
        hits += sopsfiles.check(parsed, None)
    elif (line := sopsfiles.orphan_ciphertext_line(data, relpath)) is not None:
        hits.append(Hit("sops-metadata-missing", line, "", "the first ENC[...] value is on"
                        " this line; restore the file's sops metadata from git history"))
    elif settings.promise.promised(relpath):
        hits.append(Hit("unencrypted-file", None, ""))
    text = data.decode("utf-8", "replace")
    if "\r" in text and "\n" not in text:
        # old Mac line ends: YAML (and go-yaml, so kustomize) breaks lines at a lone CR;
        # every detector must count the same lines, or one value is two findings
        text = text.replace("\r", "\n")
    src = Source(relpath, text)
    hits += plaintext_hits(src)
    if secret_source is not None and parsed is None:
        hits += kubernetes.source_values(src, secret_source)
    result.secret_sources = kubernetes.generator_sources(src)
    kept = allowed(src, merge(hits))
    result.findings = [finding(relpath, hit, located=located, rank=rank)
                       for hit, rank in _ranked(kept)]
    for hit, f in zip(kept, result.findings, strict=True):
        if hit.secret:
            result.digests[f.fingerprint] = secret_digest(hit.secret)
    return result


def _ranked(hits: list[Hit]) -> Iterator[tuple[Hit, int]]:
    """Each hit with its rank among the hits of its rule on its line (0, 1, ...)."""
    seen: dict[tuple[str, int | None], int] = {}
    for hit in hits:
        rank = seen.get((hit.rule, hit.line), 0)
        seen[(hit.rule, hit.line)] = rank + 1
        yield hit, rank


_CONTROL = re.compile(rb"[\x01-\x08\x0e-\x1f\x7f]")
_MAX_NULS = 8


def _binary(data: bytes) -> bool:
    """A NUL in the first 8 KB makes a file binary unless the file is otherwise text: at
    most a few NULs there, no other control characters, and valid UTF-8 throughout. One
    NUL typed into a manifest must not hide the Secret below it from the audit (git and
    every reader still show its plaintext)."""
    head = data[:8192]
    if head.count(b"\x00") > _MAX_NULS or _CONTROL.search(head):
        return True
    try:
        data.replace(b"\x00", b"").decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _utf16_as_utf8(data: bytes) -> bytes:
    """UTF-16 text with a byte-order mark as UTF-8 (same lines). It looks binary (NUL
    bytes), but go-yaml reads it, so kustomize (`kubectl kustomize`) and Flux apply a
    UTF-16 Secret like any other: skipping it as binary would hide it."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) \
            and not data.startswith(codecs.BOM_UTF32_LE):
        try:
            return data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            return data
    return data


def secret_digest(secret: str) -> str:
    """SHA-256 of a value, to compare values in memory (never stored or shown)."""
    return hashlib.sha256(text_bytes(secret)).hexdigest()


def plaintext_hits(src: Source) -> list[Hit]:
    out: list[Hit] = []
    for detector in (kubernetes.detect, private_keys.detect, providers.detect, generic.detect):
        out.extend(detector(src))
    return out


def merge(hits: list[Hit]) -> list[Hit]:
    """Fold a hit into a more specific hit of the same secret at the same place; the kept
    one takes the higher severity (a private key in a Secret is critical, not just high)."""
    kept: list[Hit] = []
    # where each kept hit can match (`_same_secret`): the lines it covers, its value; so a
    # file with thousands of values is not compared all against all
    by_line: dict[int, list[int]] = {}
    by_secret: dict[str, list[int]] = {}
    for hit in sorted(hits, key=lambda h: _RANK.get(h.rule, len(_RANK))):
        near = (sorted({*by_line.get(hit.line, ()), *by_secret.get(hit.secret, ())})
                if hit.line is not None and hit.secret else ())
        for i in near:
            if _same_secret(hit, kept[i]):
                kept[i] = _fold(kept[i], hit)
                break
        else:
            kept.append(hit)
            if hit.line is not None and hit.secret:
                for line in range(hit.line, (hit.last_line or hit.line) + 1):
                    by_line.setdefault(line, []).append(len(kept) - 1)
                by_secret.setdefault(hit.secret, []).append(len(kept) - 1)
    return kept


def _severity(hit: Hit) -> Severity:
    return hit.severity or rule(hit.rule).severity


def _fold(kept: Hit, other: Hit) -> Hit:
    if _severity(other) <= _severity(kept) or other.rule == "generic-secret":
        return kept
    detail = f"{kept.detail} ({rule(other.rule).title})" if kept.detail else kept.detail
    return replace(kept, severity=_severity(other), detail=detail)


_WHOLE_VALUE = frozenset(("k8s-secret-plaintext", "flux-age-key", "sops-plaintext-value"))


def _same_secret(hit: Hit, kept: Hit) -> bool:
    if hit.line is None or kept.line is None or not hit.secret or not kept.secret:
        return False
    if hit.secret == kept.secret and abs(hit.line - kept.line) <= 1:
        return True  # `password:` / its value on the next line: a key's line and a value's
    last = kept.last_line or kept.line
    if not kept.line <= hit.line <= last:
        return False
    if kept.rule in _WHOLE_VALUE or last > kept.line:
        return True  # the hit is inside the value the kept hit reports
    return hit.secret in kept.secret or kept.secret in hit.secret


def allowed(src: Source, hits: list[Hit]) -> list[Hit]:
    """The hits that no inline allow (`# sopskit: allow RULE`) covers."""
    if "sopskit:" not in src.text:
        return hits
    lines = src.text.split("\n")
    return [hit for hit in hits
            if hit.line is None or not allow.is_allowed(lines, hit.line, hit.rule)]


def finding(path: str, hit: Hit, *, located: str | None = None, rank: int = 0) -> Finding:
    r = rule(hit.rule)
    if not hit.secret:
        fp = subject_fingerprint(r.id, path, hit.detail)
    elif located is not None:
        fp = subject_fingerprint(r.id, located, path, str(hit.line), str(rank))
    else:
        fp = secret_fingerprint(r.id, hit.secret)
    message = r.message(hit.detail) if hit.detail else r.title
    return Finding(path, hit.line, r.id, r.category, hit.severity or r.severity, message, fp)


