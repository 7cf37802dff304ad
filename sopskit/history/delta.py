"""Whether a file version can hold a finding that the version before it (same path) lacked.

Most versions in a GitOps history are bumps (Renovate: an image tag, a chart version) of a
file already scanned. Rescanning every version whole is what makes `audit --history` slow;
this module decides, from the lines the change added or removed, that a version cannot
carry a new (rule, fingerprint): then its scan is skipped and it inherits nothing.

The decision uses the detectors' own prefilters (`may_hold`/`may_judge`/`is_candidate`),
never a separate keyword list, and keeps a full scan wherever a detector reads context
beyond a line: a Kubernetes Secret or kustomize generator (every value is a secret), a sops
file or a path promised encrypted, a private key block or its base64 (multi-line), inline
allows (`sopskit:` on the line above), escapes the generic detector decodes, CR line ends,
UTF-16 or binary data, and a file whose kind (`filekind.classify`) changed.

A line is judged with the two non-blank lines above it (its window); every window that one
version has and the other lacks must hold no candidate: a value on the line below
its key (`password:` / value, `name:` / `value:`, `key: |` block, `secret_key =` then the
value, `\\s*` of a provider pattern) has its key inside that window.
"""

from __future__ import annotations

from sopskit.audit import filekind
from sopskit.audit.detectors import generic, kubernetes, private_keys, providers
from sopskit.audit.detectors.source import has_escapes
from sopskit.audit.scan import ScanSettings

_WINDOW = 2  # non-blank lines above a changed line that a detector may read with it


def inherits(path: str, old: bytes, new: bytes, settings: ScanSettings) -> bool:
    """True when `new` (a later version of `path` than `old`) can hold no finding whose
    (rule, fingerprint) a scan of `old` does not report."""
    for data in (old, new):
        if b"\x00" in data or b"\r" in data or b"sops" in data or b"ENC[" in data \
                or b"sopskit:" in data or data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return False
    if settings.promise.promised(path):
        return False
    old_text = old.decode("utf-8", "replace")
    new_text = new.decode("utf-8", "replace")
    for text in (old_text, new_text):
        if kubernetes.is_candidate(text) or private_keys.may_hold(text) or has_escapes(text):
            return False
    if filekind.classify(path, old_text) != filekind.classify(path, new_text):
        return False
    old_lines = old_text.split("\n")
    new_lines = new_text.split("\n")
    # Every window one version has and the other lacks ends inside the span from the first
    # differing line to the _WINDOW-th non-blank line after the last one (windows wholly
    # in the common head or tail are the same lines in both): judge those spans. A line
    # moved, added or removed is inside them (so is a line that a removal made adjacent
    # to a key: `password:` / a comment / the value).
    head = _common_head(old_lines, new_lines)
    tail = _common_head(old_lines[head:][::-1], new_lines[head:][::-1])
    for lines in (old_lines, new_lines):
        span = "\n".join(lines[_back(lines, head):_forward(lines, len(lines) - tail)])
        if generic.may_judge(span) or providers.may_hold(span):
            return False
    return True


def _common_head(a: list[str], b: list[str]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _back(lines: list[str], i: int) -> int:
    """Where the window of line `i` starts: its _WINDOW-th non-blank line above."""
    seen = 0
    while i > 0 and seen < _WINDOW:
        i -= 1
        if lines[i].strip():
            seen += 1
    return i


def _forward(lines: list[str], end: int) -> int:
    """The end (exclusive) of the lines from `end` on whose window reaches above `end`:
    up to and including the _WINDOW-th non-blank line from `end`."""
    seen = 0
    while end < len(lines) and seen < _WINDOW:
        if lines[end].strip():
            seen += 1
        end += 1
    return end
