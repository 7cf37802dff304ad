"""Making sops' stderr safe to show.

sops can echo values in its errors (yaml/json unmarshal errors quote the offending scalar,
`MAC mismatch` prints digests, logrus wraps messages in `msg="..."`). What we relay is one
line, logrus unwrapped, every quoted span redacted, and every word that occurs in the
plaintext we passed in redacted. Logic never depends on this text: exit codes decide.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "<redacted>"
MAX_LEN = 240
_LOGRUS = re.compile(r'(?:time="[^"]*"\s+)?level=\w+\s+msg="((?:[^"\\]|\\.)*)"')
_QUOTED = re.compile(r"`[^`]{3,}`|\"[^\"]{3,}\"|'[^']{3,}'|“[^”]{3,}”")
_TOKEN = re.compile(r"[^\s:,;()\[\]{}=<>`'\"]{4,}")
# Long hex/base64 runs: digests, ciphertext, key material.
_BLOB = re.compile(r"[A-Za-z0-9+/=_-]{32,}")


def sanitise(stderr: bytes, *, plaintexts: Iterable[bytes] = ()) -> str:
    """One safe line from sops' stderr (empty when nothing is left)."""
    text = stderr.decode("utf-8", "replace")
    text = _LOGRUS.sub(lambda m: m[1].replace('\\"', '"'), text)
    line = " ".join(part.strip() for part in text.splitlines() if part.strip())
    line = _QUOTED.sub(REDACTED, line)
    line = _BLOB.sub(REDACTED, line)
    secrets = [p for p in plaintexts if p]
    if secrets:
        line = _redact_lines(line[: MAX_LEN * 4], secrets)
        line = _TOKEN.sub(lambda m: _redact_if_in(m[0], secrets), line)
    if len(line) > MAX_LEN:
        line = line[: MAX_LEN - 3] + "..."
    return line


# Words of sops' own messages (cmd/sops, stores/*, yaml.v3 errors): kept even when the
# plaintext happens to contain them, so that a redacted message still says what failed.
_VOCABULARY = frozenset(re.split(r"\s+", """
error errors could cannot unmarshal unmarshalling marshal file input output yaml json ini
dotenv binary line column found expected find while parsing scanning mapping values allowed
this context document documents must contain least empty completely invalid character
looking beginning value object array string key keys data decrypt decrypting encrypt
encrypting failed config creation rules matching tree metadata sops version with from
into the and not for
""".strip()))


def _redact_lines(line: str, secrets: list[bytes]) -> str:
    """Whole plaintext lines, and the value part of `key=value` / `key: value` lines, that
    sops quoted verbatim (dotenv and INI parse errors do): this also catches values made of
    short words that the token pass below would keep."""
    for secret in secrets:
        for raw in secret.decode("utf-8", "replace").splitlines():
            parts = [raw.strip(), *(raw.split(sep, 1)[1].strip() for sep in ("=", ":")
                                    if sep in raw)]
            for part in parts:
                if len(part) >= 4 and part in line:
                    line = line.replace(part, REDACTED)
    return line


def _redact_if_in(token: str, secrets: list[bytes]) -> str:
    if token.lower() in _VOCABULARY:
        return token
    needle = token.encode("utf-8", "replace")
    return REDACTED if any(needle in s for s in secrets) else token
