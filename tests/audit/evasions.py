"""The evasion corpus of issue 10: plaintext secrets written the ways YAML, JSON, dotenv,
INI, Helm values and kustomize let them be written, each with the exact findings the audit
must report, and decoys (real-repository false-positive classes) that must stay silent.

Reusable outside the tests (bench/audit.py compares recall with gitleaks on it):

    keys = corpus_keys()                  # real keys, made in process (cryptography, pyrage)
    for case in evasions(keys) + decoys(keys):
        case.path, case.content, case.expected   # expected: ((rule, line, severity), ...)
    write_corpus(root, keys)              # every case as a file under root; returns cases

Values are random but reproducible (`seed`); nothing here is a real credential of anyone.
"""

from __future__ import annotations

import base64
import json
import random
import string
from dataclasses import dataclass
from pathlib import Path

import pyrage
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from sopskit.audit.detectors import bech32

Expected = tuple[tuple[str, int, str], ...]
ALNUM = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Case:
    """One file: `path` (relative, its name decides the format), `content`, the exact
    findings (rule, line, severity) the audit must report, and the format family."""

    id: str
    family: str  # yaml, json, dotenv, ini, helm, kustomize, sops, key, decoy
    path: str
    content: str | bytes
    expected: Expected
    secret: str = ""  # the planted value (for leak checks); "" for decoys


@dataclass(frozen=True)
class CorpusKeys:
    rsa: str  # PKCS#1 PEM
    ec: str  # SEC1 PEM
    pkcs8: str  # PKCS#8 PEM (ed25519)
    openssh: str  # OpenSSH private key
    age: str  # AGE-SECRET-KEY-1...
    age_pq: str  # AGE-SECRET-KEY-PQ-1... (valid bech32, 32-byte seed)
    cert: str  # a public certificate PEM (decoy material)


def corpus_keys(seed: int = 10) -> CorpusKeys:
    """Real private keys of each family (made in process, a few milliseconds)."""
    rnd = random.Random(seed)
    priv = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    nc = serialization.NoEncryption()
    pem = serialization.Encoding.PEM
    rsa_pem = priv.private_bytes(pem, serialization.PrivateFormat.TraditionalOpenSSL, nc)
    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        pem, serialization.PrivateFormat.TraditionalOpenSSL, nc)
    ed = ed25519.Ed25519PrivateKey.generate()
    pkcs8 = ed.private_bytes(pem, serialization.PrivateFormat.PKCS8, nc)
    openssh = ed25519.Ed25519PrivateKey.generate().private_bytes(
        pem, serialization.PrivateFormat.OpenSSH, nc)
    pq = bech32.encode("AGE-SECRET-KEY-PQ-", bytes(rnd.getrandbits(8) for _ in range(32)))
    return CorpusKeys(rsa_pem.decode(), ec_pem.decode(), pkcs8.decode(), openssh.decode(),
                      str(pyrage.x25519.Identity.generate()), pq, _certificate(ed))


def _certificate(key: ed25519.Ed25519PrivateKey) -> str:
    import datetime

    from cryptography import x509
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "corpus")])
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, None))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _indent(text: str, n: int) -> str:
    return "\n".join(" " * n + line for line in text.strip().splitlines())


class _Values:
    """Reproducible random credentials: upper, lower, digits and a symbol."""

    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)

    def rand(self, n: int, alphabet: str = ALNUM) -> str:
        return "".join(self.rnd.choice(alphabet) for _ in range(n))

    def password(self) -> str:
        return (self.rand(1, string.ascii_uppercase) + self.rand(8) + "!"
                + self.rand(1, string.digits) + self.rand(6, string.ascii_lowercase))


H, C, L = "high", "critical", "low"


def evasions(keys: CorpusKeys, seed: int = 10) -> list[Case]:
    v = _Values(seed)
    out: list[Case] = []

    def add(id_: str, family: str, path: str, content: str | bytes, expected: Expected,
            secret: str) -> None:
        out.append(Case(id_, family, path, content, expected, secret))

    def k8s(id_: str, content: str | bytes, line: int, pw: str, sev: str = H,
            path: str = "secret.yaml", family: str = "yaml") -> None:
        add(id_, family, f"{family}/{id_}/{path}", content,
            (("k8s-secret-plaintext", line, sev),), pw)

    # -- Kubernetes Secrets, YAML ------------------------------------------------------
    pw = v.password()
    k8s("flow-style", "{apiVersion: v1, kind: Secret, metadata: {name: s}, "
        f"stringData: {{password: {pw}}}}}\n", 1, pw)
    pw = v.password()
    k8s("crlf", f"apiVersion: v1\r\nkind: Secret\r\nmetadata:\r\n  name: s\r\nstringData:\r\n"
        f"  password: {pw}\r\n", 6, pw)
    pw = v.password()
    k8s("bom", f"\ufeffapiVersion: v1\nkind: Secret\nstringData:\n  password: {pw}\n", 4, pw)
    pw = v.password()
    k8s("quoted-keys", f'"apiVersion": v1\n"kind": "Secret"\n"stringData":\n  "password": {pw}\n',
        4, pw)
    pw = v.password()
    k8s("single-quoted-keys", f"'kind': 'Secret'\n'stringData':\n  'password': '{pw}'\n", 3, pw)
    pw = v.password()
    k8s("spaced-keys", f"kind : Secret\nstringData :\n  password : {pw}\n", 3, pw)
    pw = v.password()
    k8s("tag-on-kind", f"kind: !!str Secret\nstringData:\n  password: {pw}\n", 3, pw)
    pw = v.password()
    k8s("anchor-on-kind", f"kind: &k Secret\nstringData:\n  password: {pw}\n", 3, pw)
    pw = v.password()
    k8s("kind-on-next-line", f"kind:\n  Secret\nstringData:\n  password: {pw}\n", 4, pw)
    pw = v.password()
    k8s("kind-alias", f"metadata:\n  labels:\n    t: &k Secret\nkind: *k\nstringData:\n"
        f"  password: {pw}\n", 6, pw)
    pw = v.password()
    k8s("merge-key", f"base: &b\n  kind: Secret\n<<: *b\nstringData:\n  password: {pw}\n", 5, pw)
    pw = v.password()
    k8s("yaml-hex-escape", f'kind: "Secr\\x65t"\nstringData:\n  password: {pw}\n', 3, pw)
    pw = v.password()
    k8s("yaml-unicode-key", f'"k\\u0069nd": Secret\n"str\\u0069ngData":\n  password: {pw}\n', 3, pw)
    pw = v.password()
    k8s("duplicate-kind", f"kind: ConfigMap\nkind: Secret\nstringData:\n  password: {pw}\n", 4, pw)
    pw = v.password()
    k8s("duplicate-stringdata", f"kind: Secret\nstringData: {{}}\nstringData:\n  password: {pw}\n",
        4, pw)
    pw = v.password()
    k8s("multi-document", "# comment\n---\nkind: ConfigMap\ndata:\n  a: b\n---\n---\n"
        f"apiVersion: v1\nkind: Secret\nstringData:\n  password: {pw}\n", 11, pw)
    pw = v.password()
    k8s("list-flow-items", "apiVersion: v1\nkind: List\nitems:\n"
        f"  - {{kind: Secret, stringData: {{password: {pw}}}}}\n", 4, pw)
    pw = v.password()
    k8s("secret-list-kind", "apiVersion: v1\nkind: SecretList\nitems:\n  - kind: Secret\n"
        f"    stringData:\n      token: {pw}\n", 6, pw)
    pw = v.password()
    k8s("helm-rendered", "---\n# Source: app/templates/configmap.yaml\napiVersion: v1\n"
        "kind: ConfigMap\ndata:\n  LOG: info\n---\n# Source: app/templates/secret.yaml\n"
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\n  labels:\n"
        "    helm.sh/chart: app-1.0.0\ntype: Opaque\ndata:\n"
        f"  password: {_b64(pw)}\n", 17, pw, path="rendered.yaml")
    pw = v.password()
    k8s("helm-extra-objects", "extraObjects:\n  - apiVersion: v1\n    kind: Secret\n"
        f"    metadata:\n      name: extra\n    stringData:\n      token: {pw}\n", 7, pw,
        path="values.yaml", family="helm")
    pw = v.password()
    k8s("helmrelease-values-secret", "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
        "spec:\n  values:\n    manifests:\n      - kind: Secret\n        stringData:\n"
        f"          api-key: {pw}\n", 8, pw, path="helm-release.yaml", family="helm")
    pw = v.password()
    k8s("helm-chart-template", "apiVersion: v1\nkind: Secret\nmetadata:\n"
        "  name: {{ include \"app.fullname\" . }}\n  labels:\n"
        "    {{- include \"app.labels\" . | nindent 4 }}\ntype: Opaque\nstringData:\n"
        f"  token: {{{{ .Values.token | quote }}}}\n  password: {pw}\ndata:\n"
        "  {{- if .Values.key }}\n  key: {{ .Values.key | b64enc }}\n  {{- end }}\n", 10, pw,
        path="templates/secret.yaml", family="helm")
    pw = v.password()
    k8s("tab-indented", f"kind: Secret\nstringData:\n\tpassword: {pw}\n", 3, pw)
    pw = v.password()
    k8s("data-base64", f"kind: Secret\ndata:\n  password: {_b64(pw)}\n", 3, pw)
    pw = v.password()
    k8s("data-base64-block", "kind: Secret\ndata:\n  password: >-\n"
        f"    {_b64(pw)[:12]}\n    {_b64(pw)[12:]}\n", 3, pw)
    pw = v.password()
    k8s("key-with-spaces", f'kind: Secret\nstringData:\n  "db password": {pw}\n', 3, pw)
    pw = v.password()
    k8s("key-odd-characters", f"kind: Secret\nstringData:\n  'p@ss/w0rd[1]': {pw}\n", 3, pw)
    pw = v.rand(6) + "EXAMPLE" + v.rand(14)
    k8s("example-inside-value", f"kind: Secret\nstringData:\n  token: {pw}\n", 3, pw)
    pw = v.rand(5) + "{" + v.rand(3) + "}" + v.rand(10) + "!"
    k8s("braces-inside-value", f"kind: Secret\nstringData:\n  token: '{pw}'\n", 3, pw)
    pw = v.password()
    k8s("substitution-prefix", f"kind: Secret\nstringData:\n  dsn: \"${{DB_USER}}:{pw}\"\n", 3,
        pw)
    pw = v.password()
    k8s("weak-value", "kind: Secret\nstringData:\n  username: admin\n", 3, "admin")

    # -- Kubernetes Secrets, JSON ------------------------------------------------------
    pw = v.password()
    k8s("json-unicode-kind", '{"apiVersion":"v1","kind":"Secr\\u0065t","stringData":'
        f'{{"password":"{pw}"}}}}\n', 1, pw, path="secret.json", family="json")
    pw = v.password()
    k8s("json-escaped-field", json.dumps({"kind": "Secret", "metadata": {"name": "x"}}, indent=1)
        [:-2] + ',\n "str\\u0069ngData": {"password": "' + pw + '"}\n}\n', 6, pw,
        path="secret.json", family="json")
    pw = v.password()
    k8s("json-list", json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        {"kind": "Secret", "stringData": {"token": pw}}]}) + "\n", 1, pw, path="list.json",
        family="json")
    k8s("json-data-private-key", json.dumps({"kind": "Secret", "data": {
        "tls.key": _b64(keys.rsa)}}, indent=2) + "\n", 4, keys.rsa, C, "tls.json", "json")

    # -- Private keys and age identities -----------------------------------------------
    aws = ("[default]\naws_access_key_id = AKIA" + v.rand(16, string.ascii_uppercase + "234567")
           + "\naws_secret_access_key = " + v.rand(40, ALNUM + "/+") + "\n")
    k8s("aws-credentials-in-data", f"kind: Secret\ndata:\n  credentials: {_b64(aws)}\n", 3,
        aws, C)
    gh = "ghp_" + v.rand(36)
    k8s("github-token-in-data", f"kind: Secret\ndata:\n  token: {_b64(gh)}\n", 3, gh, H)
    k8s("private-key-in-data", f"kind: Secret\ndata:\n  tls.key: {_b64(keys.ec)}\n", 3,
        keys.ec, C)
    k8s("private-key-in-stringdata", f"kind: Secret\nstringData:\n  tls.key: |\n"
        f"{_indent(keys.pkcs8, 4)}\n", 3, keys.pkcs8, C)
    creds = json.dumps({"type": "x", "private_key": keys.pkcs8})
    k8s("pem-in-json-in-data", f"kind: Secret\ndata:\n  creds.json: {_b64(creds)}\n", 3,
        keys.pkcs8, C)
    add("pem-json-string", "json", "json/pem-json-string/config.json",
        json.dumps({"tls": {"key": keys.rsa}}) + "\n", (("private-key", 1, C),), keys.rsa)
    add("pem-yaml-escaped", "yaml", "yaml/pem-yaml-escaped/values.yaml",
        "tls:\n  key: " + json.dumps(keys.ec) + "\n", (("private-key", 2, C),), keys.ec)
    add("base64-pem-configmap", "yaml", "yaml/base64-pem-configmap/cm.yaml",
        f"apiVersion: v1\nkind: ConfigMap\ndata:\n  key.pem: {_b64(keys.rsa)}\n",
        (("private-key", 4, C),), keys.rsa)
    add("base64-pem-binarydata", "yaml", "yaml/base64-pem-binarydata/cm.yaml",
        f"kind: ConfigMap\nbinaryData:\n  id: {_b64(keys.openssh)}\n",
        (("private-key", 3, C),), keys.openssh)
    add("base64-pem-helm-data", "helm", "helm/base64-pem-helm-data/values.yaml",
        f"certs:\n  data:\n    server.key: {_b64(keys.pkcs8)}\n", (("private-key", 3, C),),
        keys.pkcs8)
    add("base64-pem-dotenv", "dotenv", "dotenv/base64-pem-dotenv/.env",
        f"APP=x\nTLS_KEY={_b64(keys.ec)}\n", (("private-key", 2, C),), keys.ec)
    add("base64-pem-shifted", "json", "json/base64-pem-shifted/blob.json",
        json.dumps({"blob": _b64("ab" + keys.rsa)}) + "\n", (("private-key", 1, C),), keys.rsa)
    add("age-lowercase", "key", "key/age-lowercase/keys.txt",
        f"# created: 2026-01-01\n{keys.age.lower()}\n", (("age-secret-key", 2, C),), keys.age)
    add("age-post-quantum", "key", "key/age-post-quantum/keys.txt",
        f"# post-quantum\n{keys.age_pq}\n", (("age-secret-key", 2, C),), keys.age_pq)
    add("age-post-quantum-lowercase", "key", "key/age-post-quantum-lowercase/id.yaml",
        f"identity: {keys.age_pq.lower()}\n", (("age-secret-key", 1, C),), keys.age_pq)
    add("age-base64-configmap", "yaml", "yaml/age-base64-configmap/cm.yaml",
        f"kind: ConfigMap\ndata:\n  key: {_b64(keys.age)}\n", (("age-secret-key", 3, C),),
        keys.age)
    add("age-in-json", "json", "json/age-in-json/k.json", json.dumps({"k": keys.age}) + "\n",
        (("age-secret-key", 1, C),), keys.age)
    add("flux-sops-age-lowercase", "yaml", "yaml/flux-sops-age-lowercase/sops-age.yaml",
        "kind: Secret\nmetadata:\n  name: sops-age\nstringData:\n"
        f"  age.agekey: {keys.age.lower()}\n", (("flux-age-key", 5, C),), keys.age)
    add("flux-sops-age-pq-data", "yaml", "yaml/flux-sops-age-pq-data/sops-age.yaml",
        "kind: Secret\nmetadata:\n  name: sops-age\ndata:\n"
        f"  age.agekey: {_b64(keys.age_pq)}\n", (("flux-age-key", 5, C),), keys.age_pq)

    pw = v.password()  # a plain scalar on the line below its key: one finding, not two
    k8s("value-next-line", f"apiVersion: v1\nkind: Secret\nstringData:\n  password:\n"
        f"    {pw}\n", 5, pw)

    pw = v.password()  # UTF-16 with a BOM: NUL bytes, yet kustomize reads and applies it
    k8s("utf16-bom", f"apiVersion: v1\nkind: Secret\nstringData:\n  password: {pw}\n"
        .encode("utf-16"), 4, pw)

    pw = v.password()  # old Mac line ends (CR only): YAML's line breaks too, one finding
    k8s("cr-only", f"apiVersion: v1\rkind: Secret\rmetadata: {{name: s}}\rstringData:\r"
        f"  password: {pw}\r", 5, pw)

    # -- Key-name heuristics across formats --------------------------------------------
    def gen(id_: str, family: str, path: str, content: str, line: int, pw: str) -> None:
        add(id_, family, f"{family}/{id_}/{path}", content, (("generic-secret", line, H),), pw)

    pw = v.password()
    gen("dotenv-export-quoted", "dotenv", ".env", f'export DB_PASSWORD="{pw}"\n', 1, pw)
    pw = v.password()
    gen("dotenv-spaced", "dotenv", "app.env", f"LOG=debug\nDB_PASSWORD = {pw}\n", 2, pw)
    pw = v.password()
    gen("dotenv-comment-after", "dotenv", ".env", f"API_KEY='{pw}' # prod\n", 1, pw)
    pw = v.password()
    gen("dotenv-numbered-key", "dotenv", ".env", f"DB_PASSWORD_2={pw}\n", 1, pw)
    pw = v.password()
    gen("dotenv-dotted-key", "dotenv", "config.env", f"db.password={pw}\n", 1, pw)
    pw = v.password()
    gen("ini-colon", "ini", "app.ini", f"[database]\npassword : {pw}\n", 2, pw)
    pw = v.password()
    gen("ini-tight", "ini", "s3.cfg", f"[default]\nsecret_key={pw}\n", 2, pw)
    pw = v.password()
    gen("ini-capitalised", "ini", "app.conf", f"[auth]\nPassword = {pw}\n", 2, pw)
    pw = v.password()
    gen("toml-quoted", "ini", "config.toml", f'[server]\nauth_token = "{pw}"\n', 2, pw)
    # alphanumeric only, a capital before each lower-case letter or digit: the shape of a
    # camel-case identifier (`SecretKeyRef`) but random humps (`Zr8kQ2mW9x...`)
    pw = "".join(v.rand(1, string.ascii_uppercase) + v.rand(1, string.ascii_lowercase)
                 + v.rand(1, string.digits) for _ in range(6))
    gen("yaml-alnum-pascal", "yaml", "values.yaml", f"db:\n  password: {pw}\n", 2, pw)
    pw = v.rand(2, string.ascii_lowercase) + pw[3:]
    gen("yaml-alnum-camel", "yaml", "config.yaml", f"admin_token: {pw}\n", 1, pw)
    pw = v.password()
    gen("helm-str-tag", "helm", "values.yaml", f"auth:\n  password: !!str {pw}\n", 2, pw)
    pw = v.password()
    gen("helm-anchor", "helm", "values.yaml", f"auth:\n  password: &pw {pw}\n", 2, pw)
    pw = v.password()
    gen("helm-quoted-key-spaces", "helm", "values.yaml", f'auth:\n  "admin password": "{pw}"\n',
        2, pw)
    pw = v.password()
    gen("helm-flow-mapping", "helm", "values.yaml", f"db: {{user: app, password: {pw}}}\n", 1,
        pw)
    pw = v.password()
    gen("helm-json-values", "helm", "helm-release.yaml", "kind: HelmRelease\nspec:\n"
        f'  values: {{"apiKey": "{pw}"}}\n', 3, pw)
    pw = v.password()
    gen("helm-plain-key-with-space", "helm", "values.yaml", f"smtp:\n  smtp password: {pw}\n",
        2, pw)
    pw = v.password()
    gen("json-pretty", "json", "config.json", json.dumps({"db": {"password": pw}}, indent=2),
        3, pw)
    pw = v.password()
    gen("json-compact-key-spaces", "json", "c.json", json.dumps({"client secret": pw}), 1, pw)
    pw = v.password()
    gen("js-object-literal-tight", "source", "config.js", f'export default {{apiKey:"{pw}"}};\n',
        1, pw)
    pw = v.password()
    gen("json-escaped-key", "json", "settings.json",
        '{"db": {"host": "db", "p\\u0061ssword": "' + pw + '"}}\n', 1, pw)
    pw = v.password()
    gen("yaml-escaped-key", "helm", "values.yaml", f'auth:\n  "\\x70assword": "{pw}"\n', 2, pw)
    pw = v.password()
    gen("value-on-next-line", "helm", "values.yaml", f"auth:\n  password:\n    {pw}\n", 2, pw)
    pw = v.password()
    gen("container-env", "yaml", "deploy.yaml", "kind: Deployment\nspec:\n  env:\n"
        f"    - name: DB_PASSWORD\n      value: '{pw}'\n", 5, pw)
    pw = v.password()
    gen("crlf-dotenv", "dotenv", ".env", f"A=b\r\nDB_PASSWORD={pw}\r\n", 2, pw)

    # -- kustomize secretGenerator -----------------------------------------------------
    pw = v.password()
    add("kustomize-literal", "kustomize", "kustomize/literal/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nsecretGenerator:\n"
        f"  - name: app\n    literals:\n      - password={pw}\n",
        (("k8s-secret-plaintext", 6, H),), pw)
    pw = v.password()
    add("kustomize-literal-quoted", "kustomize", "kustomize/literal-quoted/kustomization.yaml",
        f'secretGenerator:\n  - name: app\n    literals: ["token={pw}", "user=app"]\n',
        (("k8s-secret-plaintext", 3, H),), pw)  # one finding per line
    pw = v.password()
    add("kustomize-env-file", "kustomize", "kustomize/env-file/secret.env",
        f"DB_USER=app\nDB_PASSWORD={pw}\n", (("generic-secret", 2, H),), pw)

    # -- sops-shaped files over plaintext (hand-written metadata) ------------------------
    def sops_meta(mac: str, rule: str) -> str:
        return ("sops:\n    age:\n        - recipient: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8"
                "zmrj2kg5sfn9aqmcac8p\n          enc: |\n            -----BEGIN AGE ENCRYPTED "
                "FILE-----\n            YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBhYmNk\n"
                "            -----END AGE ENCRYPTED FILE-----\n    lastmodified: "
                f'"2024-01-01T00:00:00Z"\n    mac: {mac}\n    {rule}\n    version: 3.8.1\n')

    body = "apiVersion: v1\nkind: Secret\nmetadata:\n    name: s\nstringData:\n"
    pw = v.password()
    add("sops-plaintext-at-encrypted-path", "sops", "sops/plaintext-path/secret.sops.yaml",
        f"{body}    password: {pw}\n" + sops_meta('""', "encrypted_regex: ^(data|stringData)$"),
        (("sops-plaintext-value", 6, C), ("sops-mac-missing", 7, H)), pw)
    pw = v.password()
    add("sops-crypt-rule-encrypts-nothing", "sops", "sops/encrypts-nothing/secret.sops.yaml",
        f"{body}    password: {pw}\n" + sops_meta('""', "encrypted_regex: ^nomatch$"),
        (("sops-no-encrypted-values", 7, C), ("k8s-secret-plaintext", 6, H),
         ("sops-mac-missing", 7, H)), pw)
    pw = v.password()
    add("sops-unencrypted-regex-everything", "sops", "sops/unencrypted-all/app.sops.yaml",
        f"db:\n    password: {pw}\n" + sops_meta('""', "unencrypted_regex: .*"),
        (("sops-no-encrypted-values", 3, C), ("generic-secret", 2, H),
         ("sops-mac-missing", 3, H)),
        pw)
    return out


def decoys(keys: CorpusKeys) -> list[Case]:
    """Real-repository false-positive classes (issue 10): each must give no finding."""
    d = [
        ("gha-id-token", ".github/workflows/release.yml",
         "permissions:\n  id-token: write\n  contents: read\njobs:\n  x:\n    steps:\n"
         "      - run: echo ${{ secrets.TOKEN }}\n        env:\n"
         "          GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n"),
        ("yaml-app-tags", "recyclarr.yml",
         "sonarr:\n  main:\n    api_key: !env_var SONARR_API_KEY\n    secret: !secret db_pass\n"),
        ("angle-placeholders", "config.yml",
         "plex:\n  token: <<PLEX_API_KEY>>\ntmdb:\n  apikey: <<TMDB_API_KEY>>\n"),
        ("makejinja-placeholders", "secret.yaml",
         "kind: Secret\nstringData:\n  token: \"#{ cloudflare.token }#\"\n"),
        ("shell-placeholders", "job.yaml",
         "args:\n  - --token=$(cat /tmp/sa-token/token)\n  - --api-key=$(OPNSENSE_API_KEY)\n"
         "env:\n  PASSWORD: ${DB_PASSWORD}\n"),
        ("helm-template-values", "values.yaml",
         "password: '{{ .Values.db.password }}'\ntoken: \"{{ include \\\"tok\\\" . }}\"\n"),
        ("test-values", "config.toml", 'token = "fake"\n[cloudflare]\napi_token = "test-token"\n'
         'secret = "some-secret"\n'),
        ("test-values-yaml", "config-talos.yaml",
         "webhook_token: fake\ntoken: take\nsecret: fake\nrenderer_token: fnord\n"
         "encryption_key: a_very_important_secret\npassword: insecure_secret\n"),
        ("block-scalar-prose", "taskfile-like.yaml",
         "desc: |\n  Set the password: to the value shown in the UI\n"
         "secret: ExternalSecret to sync (required)\n"),
        ("markdown-prose", "README.md",
         "Set `DB_PASSWORD: \"mySecretPassword123\"` in your env.\n\n```yaml\n"
         "password: Zx9vQ2mLk8!pq\n```\n"),
        ("module-js", "scripts/lib/Talos.class.mjs",
         "// const GITHUB_TOKEN = process.env.TOKEN\nthis.kvmPassword = argv['password']"
         " || process.env.KVM_PASSWORD\nlet h = { \"X-KVMD-Passwd\": this.kvmPassword }\n"),
        ("minified-js", "app.min.js", "var a={password:\"Zx9vQ2mLk8!pq\"};" * 40 + "\n"),
        ("commented-config", "turnserver.conf",
         "#static-auth-secret=north\n# cli-password=Zx9vQ2mLk8!pq\n; password = Zx9vQ2mLk8!pq\n"),
        ("commented-yaml", "host_vars.yml",
         "# ansible_ssh_pass: \"ubuntu\"\n#   aescbcEncryptionSecret: Zx9vQ2mLk8+pq/Zx9vQ2mLk8=\n"),
        ("secret-key-references", "composition.yaml",
         "- fromConnectionSecretKey: kubeconfig\n- secretKey: DB_PASSWORD\n"
         "  secretKeyRef: db-creds\n"),
        ("list-items-not-mappings", ".fluxschema.yml", "kinds:\n  - Secret:/sops\n"
         "  - password\n  - token:abc/def\n"),
        ("sops-template-j2", "secret.sops.yaml.j2",
         "kind: Secret\nmetadata:\n  name: s\nstringData:\n  token: \"#{ webhook_token() }#\"\n"
         "  identity: |\n    #{ deploy_key | indent(4) }#\n"),
        ("sops-template-tmpl", "secret.sops.yaml.tmpl",
         "kind: Secret\nstringData:\n  password: '{{ .password }}'\n  user: admin\n"),
        ("paths-and-hashes", "app.yaml",
         "GOOGLE_APPLICATION_CREDENTIALS: /vault/userconfig/sa.json\n"
         "mockPrivateKey: testdata/private.gpg\n"
         "password: $2y$05$YG8EzZEcoNPWI59fcg715OhF4uMmZQSLS75VNg0FiQXFgvOKGuE02\n"),
        ("properties-prose", "messages_en.properties",
         "doForgotPassword=Forgot Password?\nloginCredential=Credential\n"),
        ("words-values", "app.conf", 'invite-password = "generate-invite"\n'
         "priv_password: otherPass\n"),
        ("secret-refs-by-kind", "es.yaml", "kind: ExternalSecret\nspec:\n  data:\n"
         "    - secretKey: password\n      remoteRef: {key: db}\n"),
        ("certificate-only-configmap", "ca.yaml",
         f"kind: ConfigMap\ndata:\n  ca.crt: {_b64(keys.cert)}\n"),
        ("aws-documentation", "aws.env", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n"
         "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"),
        ("fixture-word-in-value", "tests/test_api.py",
         'assert data == {"PASSWORD": "hunter2-api-test"}\ntoken = "sk_fake_9f8e7d6c5b"\n'),
        ("taskfile-expansions", ".taskfiles/Flux/Taskfile.yaml",
         "vars:\n  SECRET: '{{.SECRET}}'\ntasks:\n  apply:\n    env:\n"
         "      GOOGLE_APPLICATION_CREDENTIALS: ~/raspbernetes-d72f2d61e4ac.json\n"
         "    cmds:\n      - kubectl create secret --token=$TOKEN_V2x9 --password=$PW\n"),
        ("valuefrom-secret-kind", "helm-release.yaml",
         "kind: HelmRelease\nspec:\n  valuesFrom:\n    - kind: Secret\n      name: app\n"),
    ]
    return [Case(id_, "decoy", f"decoy/{id_}/{path}", content, ()) for id_, path, content in d]


def write_corpus(root: Path, keys: CorpusKeys | None = None) -> list[Case]:
    """Every case as a file under `root` (paths are unique); the cases written."""
    keys = keys or corpus_keys()
    cases = evasions(keys) + decoys(keys)
    for case in cases:
        path = root / case.path
        path.parent.mkdir(parents=True, exist_ok=True)
        data = case.content if isinstance(case.content, bytes) else case.content.encode()
        path.write_bytes(data)
    return cases
