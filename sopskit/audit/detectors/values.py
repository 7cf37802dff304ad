"""Is a value a real literal, or a placeholder / reference / public datum (a decoy)?

These rules are shared by the detectors that look at values (generic assignments,
Kubernetes Secrets, URLs). They err towards "literal": a decoy must be recognisably one.
"""

from __future__ import annotations

import math
import re
from collections import Counter

# Placeholders people commit on purpose (templating, substitution, documentation).
_TEMPLATED = re.compile(
    r"\$\{[^}]*\}|\$\([A-Za-z_][A-Za-z0-9_]*\)|\{\{.*?\}\}|\{%.*?%\}|%\([a-z_]+\)s|"
    r"^\$[A-Za-z_][A-Za-z0-9_]*$|^\{[^{}]*\}$|^<[^<>]+>$|^\[[A-Z_ -]+\]$"
    r"|^__[A-Z0-9_]+__$|^@[A-Z_]+@$|\$\(.+\)|`.+`")  # the last two: shell substitution
_WORDS = frozenset((
    "changeme", "change-me", "change_me", "changeit", "replace_me", "replace-me", "replaceme",
    "replace-with-your-token", "todo", "tbd", "fixme", "placeholder", "dummy", "example",
    "sample", "redacted", "secret", "password", "passwd", "token", "none", "null", "nil",
    "undefined", "empty", "default", "your-password", "yourpassword", "your_password",
    "mypassword", "your-token", "your_token", "your-secret", "your-api-key", "xxx",
    "test-password",
    "true", "false", "yes", "no", "on", "off",
))
_REPEATED = re.compile(r"^(.)\1{2,}$|^[xX*.\-_#]+$")
# Secret-manager references: the value names where the secret lives, it is not the secret.
_REFERENCES = re.compile(
    r"^(?:ref\+[a-z0-9]+://|vault:|op://|@Microsoft\.KeyVault\(|arn:aws:(?:secretsmanager|ssm)"
    r"|projects/[^/]+/secrets/|awssm:|gcpsm:|azkv:|sops://|secretref:|!vault|file://|env:)",
    re.I)
_ENC = "ENC[AES256_GCM"


def is_placeholder(value: str) -> bool:
    """A templated, substituted, example or redacted value."""
    v = value.strip()
    if len(v) < 3:
        return True
    if v.lower() in _WORDS or _REPEATED.match(v):
        return True
    return bool(_TEMPLATED.search(v))


def is_reference(value: str) -> bool:
    return bool(_REFERENCES.match(value.strip()))


def is_encrypted(value: str) -> bool:
    return value.lstrip().startswith(_ENC)


def is_example_credential(value: str) -> bool:
    """AWS's documented example keys and similar (they end in or contain EXAMPLE)."""
    return "EXAMPLE" in value


def is_literal_secret(value: str) -> bool:
    """Neither empty, placeholder, reference, ENC[...] value nor documentation example."""
    return not (is_placeholder(value) or is_reference(value) or is_encrypted(value)
                or is_example_credential(value))


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def unquote(raw: str) -> str:
    """A scalar as written on one line: strip matching quotes and a trailing comment."""
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return raw[1:-1]
    if raw[:1] in "\"'":
        end = raw.find(raw[0], 1)
        return raw[1:end] if end > 0 else raw[1:]
    hash_at = raw.find(" #")
    return (raw[:hash_at] if hash_at >= 0 else raw).rstrip()
