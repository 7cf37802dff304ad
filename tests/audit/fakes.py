"""Realistic credentials made up on the spot (right shape, random body), so that no
secret-looking literal is committed in the test sources."""

from __future__ import annotations

import base64
import json
import secrets
import string

ALNUM = string.ascii_letters + string.digits
UPPER = string.ascii_uppercase + string.digits


def rand(n: int, alphabet: str = ALNUM) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def aws_key_id() -> str:
    return "AKIA" + rand(16, string.ascii_uppercase + "234567")


def aws_secret() -> str:
    return rand(40, ALNUM + "/+")


def github() -> str:
    return "ghp_" + rand(36)


def gitlab() -> str:
    return "glpat-" + rand(20, ALNUM + "_-")


def slack_token() -> str:
    return f"xoxb-{rand(11, string.digits)}-{rand(12, string.digits)}-{rand(24)}"


def slack_webhook() -> str:
    return f"https://hooks.slack.com/services/T{rand(8, UPPER)}/B{rand(8, UPPER)}/{rand(24)}"


def stripe() -> str:
    return "sk_live_" + rand(24)


def npm() -> str:
    return "npm_" + rand(36)


def pypi() -> str:
    return "pypi-AgEIcHlwaS5vcmc" + rand(60, ALNUM + "_-")


def vault() -> str:
    return "hvs." + rand(90, ALNUM + "_-")


def gcp_api_key() -> str:
    return "AIza" + rand(35, ALNUM + "_-")


def azure_account_key() -> str:
    return base64.b64encode(secrets.token_bytes(64)).decode()


def azure_sas_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt() -> str:
    head = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64url(json.dumps({"sub": rand(8), "iat": 1700000000}).encode())
    return f"{head}.{body}.{_b64url(secrets.token_bytes(32))}"


def password() -> str:
    return rand(10) + "!" + rand(6)
