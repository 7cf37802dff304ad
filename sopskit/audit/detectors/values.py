"""Is a value a real literal, or a placeholder / reference / public datum (a decoy)? And does
a literal look like a credential at all?

These rules are shared by the detectors that look at values (generic assignments,
Kubernetes Secrets, URLs). Two levels:

- `is_literal_secret`: not a placeholder, reference, ENC[...] value or documented example.
  A Kubernetes Secret's value only has to pass this (any plaintext value there is a leak).
- `credential_shape`: a literal that also *looks* like a credential (length, character
  classes, entropy; not a word, path, identifier, hash or tag). Key-name heuristics
  (`password: ...`) need this: real repositories are full of `token: fake`,
  `id-token: write` and `api_key: !env_var SONARR_KEY`.

A template expression only exempts a value when what is left around it is no credential:
`${USER}:Zr8!vq2LpX` is still a password with a substitution in front.
"""

from __future__ import annotations

import math
import re
from collections import Counter

# Template and substitution syntaxes, removed before a value is judged.
_TEMPLATE_EXPR = re.compile(
    r"\$\{\{.*?\}\}|\$\{[^}\n]*\}|\$\([^)\n]*\)?|\{\{.*?\}\}|\{%.*?%\}|<%.*?%>|#\{.*?\}#?"
    r"|<<[A-Za-z0-9_.\- ]+>>|\[\[.*?\]\]|%\([a-z_]+\)s|%[A-Z_][A-Z0-9_]*%|@[A-Z_]+@"
    r"|__[A-Z0-9_]+__|`[^`]*`?")
# A whole value that names a variable or stands for a value to fill in.
_WHOLE_PLACEHOLDER = re.compile(
    r"^(?:\$[A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z_][\w.\-]*\}|<[^<>]+>|\[[A-Za-z_ -]+\]|%[A-Za-z_]+%)$")
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
# Documented example credentials (AWS's own, which other vendors' docs copy).
_DOC_EXAMPLES = frozenset((
    "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AKIAI44QH8DHBEXAMPLE",
    "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY", "ASIAIOSFODNN7EXAMPLE"))
# `EXAMPLE` as a word of its own (`EXAMPLE_TOKEN`, `my-example-key`) or AWS's suffix
# convention; inside random characters it proves nothing (issue 10).
_EXAMPLE_WORD = re.compile(r"(?:^|[^A-Za-z0-9])example(?:$|[^A-Za-z0-9])|EXAMPLE(?:KEY)?$", re.I)
# Words test fixtures and docs use for values that are not secrets.
_DECOY_WORDS = re.compile(
    r"fake|dummy|test(?:ing)?|example|sample|placeholder|changeme|change|replace|mock|stub"
    r"|insecure|secret|password|passw(?:or)?d|pass|token|apikey|api|key|foo|bar|baz|qux"
    r"|my|your|some|value|actual|super|very|important|demo|default|generate[ds]?|xxx+|abc"
    r"|123|admin|user(?:name)?|here", re.I)
_HASHED = re.compile(r"^\$(?:2[abxy]?|1|5|6|y|gy|7|md5|apr1|sha1|argon2(?:id|i|d)?|pbkdf2[-_\w]*"
                     r"|scrypt)\$|^\{(?:SSHA|SHA|SSHA256|SSHA512|CRYPT|BCRYPT|PBKDF2[-\w]*)\}",
                     re.I)
_PATH = re.compile(r"^(?:~|\.{1,2})?/[\w.\-/@+]*$|^[\w.\-]+(?:/[\w.\-@+]+)+\.[A-Za-z][\w]{0,5}$"
                   r"|^[A-Za-z]:\\")
_IDENTIFIER = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$|^[a-z]+(?:[.\-_][a-z0-9]+)*$"
                         r"|^[a-z]+(?:[A-Z][a-z0-9]*)+$|^(?:[A-Z][a-z0-9]+)+$")
# the runs of an identifier: `Db`, `Password`, `S3`, `2` (camel humps, capitals, digits)
_RUNS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
_URLISH = re.compile(r"^[a-z][a-z0-9+.\-]*://[^\s:@/]*(?:/|$)|^[\w.\-]+@[\w\-]+\.[\w.\-]+$", re.I)
_SHELL_VAR = re.compile(r"\$[A-Za-z_{(]")


def strip_templates(value: str) -> str:
    """The value with every template / substitution expression removed."""
    return _TEMPLATE_EXPR.sub("", value)


def is_placeholder(value: str) -> bool:
    """A templated, substituted, example or redacted value (nothing credential-like is left
    once template expressions are removed)."""
    v = value.strip()
    if len(v) < 3:
        return True
    if v.lower() in _WORDS or _REPEATED.match(v) or _WHOLE_PLACEHOLDER.match(v):
        return True
    rest = strip_templates(v)
    if rest == v:
        return False
    rest = rest.strip(" \t\"'")
    return len(rest) < 3 or credential_shape(rest) is None


def is_reference(value: str) -> bool:
    return bool(_REFERENCES.match(value.strip()))


def is_encrypted(value: str) -> bool:
    return value.lstrip().startswith(_ENC)


def is_example_credential(value: str) -> bool:
    """A documented example key (AWS's `...EXAMPLE` keys) or a value that says it is one by
    a word of its own; `EXAMPLE` inside random characters is not enough."""
    v = value.strip()
    return v in _DOC_EXAMPLES or bool(_EXAMPLE_WORD.search(v))


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


def _classes(value: str) -> list[str]:
    names = []
    if any(c.isupper() for c in value):
        names.append("upper")
    if any(c.islower() for c in value):
        names.append("lower")
    if any(c.isdigit() for c in value):
        names.append("digits")
    if any(not c.isalnum() and c not in "-_." for c in value):
        names.append("symbols")
    return names


def _is_identifier(value: str) -> bool:
    """`DB_PASSWORD`, `key-name`, `secretKeyRef`, `S3Bucket2`: an identifier's humps are
    words. A random alphanumeric password can match the same patterns by chance
    (`Zr8kQ2mW9xLp4Tn7`: every capital followed by a lower-case letter or a digit), but
    its humps are single letters between many runs of digits."""
    if not _IDENTIFIER.match(value):
        return False
    runs: list[str] = _RUNS.findall(value)
    digit_runs = sum(r.isdigit() for r in runs)
    single_letters = sum(len(r) == 1 and r.isalpha() for r in runs)
    return digit_runs <= 2 and single_letters <= 1


def _vowel_ratio(value: str) -> float:
    letters = [c for c in value.lower() if c.isalpha()]
    return sum(c in "aeiouy" for c in letters) / len(letters) if letters else 0.0


_FIXTURE_WORDS = frozenset(("fake", "dummy", "test", "testing", "example", "sample", "mock",
                            "placeholder", "changeme", "insecure", "notsecret", "notreal"))


def _decoy_words(value: str) -> bool:
    """Made of decoy words (`test-token`, `mySecretPassword123`, `fake`): what is left once
    they and separators are removed is too short to be a secret; or a word of its own says
    it is a fixture (`hunter2-api-test`, `sk_fake_x9`)."""
    rest = _DECOY_WORDS.sub("", value)
    if sum(c.isalnum() for c in rest) < 4:
        return True
    return any(w.lower() in _FIXTURE_WORDS for w in re.split(r"[-_.:/@]", value))


def credential_shape(value: str, *, shell: bool = False) -> str | None:
    """Why `value` looks like a credential (shown in findings), or None when it does not:
    too short, prose, a word or identifier, a path, URL, hash, YAML tag, placeholder or
    decoy words. `shell`: `$NAME` in the value is an expansion (scripts, workflows)."""
    v = value.strip()
    n = len(v)
    if n < 8 or n > 1024 or any(c.isspace() for c in v):
        return None
    if v[0] == "!" or (shell and _SHELL_VAR.search(v)):
        return None  # a YAML tag (`!env_var X`, `!secret x`) or a shell expansion
    if (_HASHED.match(v) or _PATH.match(v) or _is_identifier(v) or _URLISH.match(v)
            or is_reference(v) or is_encrypted(v) or is_example_credential(v)
            or v.lower() in _WORDS or _REPEATED.match(v) or _WHOLE_PLACEHOLDER.match(v)
            or _decoy_words(v)):
        return None
    if strip_templates(v) != v:
        rest = strip_templates(v).strip("\"'")
        return credential_shape(rest, shell=shell) if len(rest) < n else None
    classes = _classes(v)
    bits = entropy(v)
    hexish = n >= 16 and all(c in "0123456789abcdefABCDEF" for c in v) and "digits" in classes
    letters_only = classes in (["upper", "lower"], ["lower"], ["upper"])
    if letters_only and not (n >= 16 and _vowel_ratio(v) < 0.25 and bits >= 3.5):
        return None  # words (`otherPass`, `insecuresecret`), not random letters
    strong = (hexish or len(classes) >= 3 or (len(classes) == 2 and n >= 12 and bits >= 3.0)
              or (n >= 20 and bits >= 3.5))
    if not strong:
        return None
    return f"{n} chars, {'+'.join(classes)}, entropy {bits:.1f} bits/char"


def unquote(raw: str) -> str:
    """A scalar as written on one line: strip matching quotes and a trailing comment."""
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return raw[1:-1]
    if raw[:1] and raw[:1] in "\"'":
        end = raw.find(raw[0], 1)
        return raw[1:end] if end > 0 else raw[1:]
    hash_at = raw.find(" #")
    return (raw[:hash_at] if hash_at >= 0 else raw).rstrip()
