"""Provider credentials with a recognisable shape: AWS, GCP, Azure, GitHub, GitLab, Slack,
Stripe, npm, PyPI, Vault, JWTs, Docker config auths, kubeconfig credentials, URL passwords.

Table-driven: each pattern has cheap substring `needles`, all found in one pass first
(`needles.present`, one RE2 set shared with the other detectors; most files contain none,
so most files never reach a regex), a precompiled regex whose group `group` is the secret,
and an optional validator that rejects decoys (documentation examples, placeholders).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sopskit.audit.detectors import needles, values
from sopskit.audit.detectors.source import Hit, Source


@dataclass(frozen=True)
class Pattern:
    rule: str
    needles: tuple[str, ...]
    regex: re.Pattern[str]
    group: int = 1
    valid: Callable[[str], bool] = values.is_literal_secret
    also_needs: tuple[str, ...] = ()  # all of these must occur in the file too
    # an RE2 prefilter instead of `needles` when a word is too common to be one (`secret`
    # is in most Kubernetes manifests): a part every match contains
    prefilter: str = ""


def _jwt_ok(token: str) -> bool:
    head = token.split(".", 1)[0]
    try:
        decoded = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (binascii.Error, ValueError):
        return False
    return isinstance(decoded, dict) and str(decoded.get("alg", "none")).lower() != "none"


def _url_ok(password: str) -> bool:
    return values.is_literal_secret(password) and password.lower() not in (
        "pass", "pwd", "pw", "user", "username", "secret", "x-oauth-basic")


def _re(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags)


PATTERNS: tuple[Pattern, ...] = (
    Pattern("aws-access-key-id", ("AKIA", "ASIA", "ABIA", "ACCA"),
            _re(r"(?<![A-Z0-9])((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})(?![A-Z0-9])")),
    Pattern("aws-secret-access-key", (),
            _re(r"(?i)secret[_\-]?(?:access[_\-]?)?key[\"']?\s*[:=]\s*[\"']?"
                r"([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"),
            prefilter=r"(?i)secret[_\-]?(?:access[_\-]?)?key"),
    Pattern("gcp-service-account", ('"private_key"',),
            _re(r"\"private_key\"\s*:\s*\"(-----BEGIN PRIVATE KEY-----[^\"]{40,})\""),
            also_needs=('"service_account"',)),
    Pattern("gcp-api-key", ("AIza",), _re(r"(?<![\w-])(AIza[0-9A-Za-z_\-]{35})(?![\w-])")),
    Pattern("azure-storage-key", ("AccountKey=",),
            _re(r"AccountKey=([A-Za-z0-9+/]{86}==)")),
    Pattern("azure-connection-string", ("SharedAccessKey=",),
            _re(r"SharedAccessKey=([A-Za-z0-9+/]{42,43}=)")),
    Pattern("github-token", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
            _re(r"(?<![\w])((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82})"
                r"(?![\w])")),
    Pattern("gitlab-token", ("glpat-", "gldt-", "glrt-", "glptt-", "glft-", "glsoat-",
                             "GR1348941"),
            _re(r"(?<![\w-])(gl(?:pat|dt|rt|ptt|ft|soat)-[A-Za-z0-9_\-]{20,}"
                r"|GR1348941[A-Za-z0-9_\-]{20,})")),
    Pattern("slack-webhook", ("hooks.slack.com",),
            _re(r"(https://hooks\.slack\.com/(?:services|workflows|triggers)/"
                r"[A-Za-z0-9_]+/[A-Za-z0-9_]+/[A-Za-z0-9_]{8,})")),
    Pattern("slack-token", ("xox",),
            _re(r"(?<![\w-])(xox[abposr]-[0-9A-Za-z]{6,}-[0-9A-Za-z-]{6,})")),
    Pattern("stripe-key", ("sk_live_", "sk_test_", "rk_live_", "rk_test_"),
            _re(r"(?<![\w])((?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,})")),
    Pattern("npm-token", ("npm_",), _re(r"(?<![\w])(npm_[A-Za-z0-9]{36})(?![\w])")),
    Pattern("pypi-token", ("pypi-AgE",), _re(r"(pypi-AgE[A-Za-z0-9_\-]{50,})")),
    Pattern("vault-token", ("hvs.", "hvb.", "hvr."),
            _re(r"(?<![\w.])(hv[sbr]\.[A-Za-z0-9_\-]{24,})")),
    Pattern("jwt", ("eyJ",),
            _re(r"(?<![\w-])(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,})"),
            valid=_jwt_ok),
    Pattern("docker-config-auth", ('"auth"',),
            _re(r"\"auth\"\s*:\s*\"([A-Za-z0-9+/=]{8,})\""), also_needs=('"auths"',)),
    Pattern("kubeconfig-credential", ("client-key-data", "token:", "password:"),
            _re(r"(?m)^[ \t]*(?:client-key-data|token|password):[ \t]*[\"']?([^\s\"'#]{6,})"),
            also_needs=("users:", "contexts:")),
    Pattern("url-credentials", ("://",),
            _re(r"://([^\s:/?#@\"'<>{}\[\]]+):"
                r"([^\s@/\"'<>]+)@[A-Za-z0-9.\-_\[\]]+"), group=2, valid=_url_ok),
)


_LITERALS = frozenset(n for p in PATTERNS for n in (*p.needles, *p.also_needs))
_PREFILTERS = {p.rule: p.prefilter for p in PATTERNS if p.prefilter}
needles.register(_LITERALS, _PREFILTERS)
# needle (or prefilter name) -> the patterns it opens, by their index in PATTERNS
_OPENS: dict[str, tuple[int, ...]] = {}
for _i, _p in enumerate(PATTERNS):
    for _n in (_p.rule,) if _p.prefilter else _p.needles:
        _OPENS[_n] = (*_OPENS.get(_n, ()), _i)


def detect(src: Source) -> Iterator[Hit]:
    text = src.text
    present = needles.present(src)
    if not present:
        return
    # the patterns a present needle opens, in PATTERNS' order (most files hold the needles
    # of one or two: `://`, `token:`; going through all of them cost more than the search)
    for i in sorted({i for n in present for i in _OPENS.get(n, ())}):
        p = PATTERNS[i]
        if p.also_needs and not present.issuperset(p.also_needs):
            continue
        for m in p.regex.finditer(text):
            secret = m.group(p.group)
            if p.valid(secret):
                yield Hit(p.rule, src.line_of(m.start(p.group)), secret)
