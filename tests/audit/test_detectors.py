"""Table-driven detector tests: every family with true secrets and with decoys.

A secret case is (file name, content, the rule that must fire, the secret); a decoy case is
(file name, content) on which no plaintext finding may appear. Every finding is also checked
for leaking its value (message and fingerprint hold no part of it).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest

from sopskit.audit.rules import rule
from sopskit.audit.scan import ScanSettings, scan_bytes
from tests.audit import fakes

Case = Callable[[dict[str, str]], tuple[str, str, str, str]]


def _indent(text: str, n: int) -> str:
    return "\n".join(" " * n + line for line in text.strip().splitlines())


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def secret_yaml(pw: str) -> str:
    return f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: {pw}\n"


def _gcp(k: dict[str, str]) -> tuple[str, str, str, str]:
    pem = k["pkcs8"]
    doc = {"type": "service_account", "project_id": "p", "private_key_id": fakes.rand(40),
           "private_key": pem, "client_email": "x@p.iam.gserviceaccount.com"}
    return "sa.json", json.dumps(doc, indent=2), "gcp-service-account", pem


SECRETS: dict[str, Case] = {
    "k8s stringData": lambda k: ("s.yaml", secret_yaml(pw := fakes.password()),
                                 "k8s-secret-plaintext", pw),
    "k8s data base64": lambda k: ("s.yaml", "kind: Secret\nmetadata: {name: x}\ndata:\n"
                                  f"  token: {_b64(pw := fakes.password())}\n",
                                  "k8s-secret-plaintext", pw),
    "k8s weak value": lambda k: ("s.yaml", "kind: Secret\nstringData:\n  username: admin\n",
                                 "k8s-secret-plaintext", "admin"),
    "k8s multi-doc": lambda k: ("m.yaml", "kind: ConfigMap\ndata: {a: b}\n---\n"
                                + secret_yaml(pw := fakes.password()),
                                "k8s-secret-plaintext", pw),
    "k8s List": lambda k: ("l.yaml", "apiVersion: v1\nkind: List\nitems:\n  - kind: Secret\n"
                           f"    stringData:\n      key: {(pw := fakes.password())}\n",
                           "k8s-secret-plaintext", pw),
    "k8s JSON manifest": lambda k: ("s.json", json.dumps(
        {"apiVersion": "v1", "kind": "Secret", "stringData": {"k": (pw := fakes.password())}},
        indent=2), "k8s-secret-plaintext", pw),
    "flux sops-age": lambda k: ("sops-age.yaml", "kind: Secret\nmetadata:\n  name: sops-age\n"
                                f"stringData:\n  age.agekey: |\n{_indent(k['age'], 4)}\n",
                                "flux-age-key", k["age"]),
    "flux sops-age data": lambda k: ("sops-age.yaml", "kind: Secret\nmetadata:\n  name: sops-age\n"
                                     f"data:\n  age.agekey: {_b64(k['age'])}\n", "flux-age-key",
                                     k["age"]),
    # Talos machine configs (toboshii/home-ops' history): PKCS#8 under the label
    # "ED25519 PRIVATE KEY", base64-encoded in YAML, and a secretbox/aescbc key
    "talos ed25519 label": lambda k: ("talenv.yaml", "machineCertKey: " + _b64(
        pem := k["pkcs8"].replace("BEGIN PRIVATE", "BEGIN ED25519 PRIVATE")
         .replace("END PRIVATE", "END ED25519 PRIVATE")) + "\n", "private-key", pem),
    "encryption key": lambda k: ("talenv.yaml", "aescbcEncryptionKey: "
                                 + (v := base64.b64encode(fakes.rand(32).encode()).decode())
                                 + "\n", "generic-secret", v),
    "rsa pem": lambda k: ("id_rsa", k["rsa"], "private-key", k["rsa"]),
    "ec pem": lambda k: ("ec.key", k["ec"], "private-key", k["ec"]),
    "dsa pem": lambda k: ("dsa.key", k["dsa"], "private-key", k["dsa"]),
    "pkcs8": lambda k: ("k.pem", k["pkcs8"], "private-key", k["pkcs8"]),
    "pkcs8 encrypted": lambda k: ("k.pem", k["pkcs8-enc"], "private-key", k["pkcs8-enc"]),
    "rsa encrypted": lambda k: ("k.pem", k["rsa-enc"], "private-key", k["rsa-enc"]),
    "openssh": lambda k: ("id_ed25519", k["openssh"], "private-key", k["openssh"]),
    "openssh encrypted": lambda k: ("id_ed25519", k["openssh-enc"], "private-key",
                                    k["openssh-enc"]),
    "pem in yaml block": lambda k: ("values.yaml", f"tls:\n  key: |\n{_indent(k['rsa'], 4)}\n",
                                    "private-key", k["rsa"]),
    "pgp secret block": lambda k: ("key.asc", k["pgp-secret"], "pgp-private-key",
                                   k["pgp-secret"]),
    "putty": lambda k: ("k.ppk", "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n"
                        "Comment: t\nPublic-Lines: 2\nAAAA\nBBBB\nPrivate-Lines: 1\n"
                        f"{(b := fakes.rand(44))}\nPrivate-MAC: {fakes.rand(64, '0123456789abcdef')}\n",
                        "putty-private-key", b),
    "age identity": lambda k: ("keys.txt", f"# created: 2026-01-01\n{k['age']}\n",
                               "age-secret-key", k["age"]),
    "aws key id": lambda k: (".env", f"AWS_ACCESS_KEY_ID={(v := fakes.aws_key_id())}\n",
                             "aws-access-key-id", v),
    "aws secret": lambda k: ("credentials", "[default]\naws_secret_access_key = "
                             f"{(v := fakes.aws_secret())}\n", "aws-secret-access-key", v),
    "gcp service account": _gcp,
    "gcp api key": lambda k: ("c.yaml", f"maps:\n  key: {(v := fakes.gcp_api_key())}\n",
                              "gcp-api-key", v),
    "azure storage": lambda k: ("a.env", "STORAGE=DefaultEndpointsProtocol=https;AccountName=x;"
                                f"AccountKey={(v := fakes.azure_account_key())};EndpointSuffix="
                                "core.windows.net\n", "azure-storage-key", v),
    "azure connection string": lambda k: ("a.json", json.dumps({"sb": "Endpoint=sb://x.servicebus"
                                          ".windows.net/;SharedAccessKeyName=R;SharedAccessKey="
                                          + (v := fakes.azure_sas_key())}),
                                          "azure-connection-string", v),
    "github": lambda k: ("w.yaml", f"env:\n  GH: {(v := fakes.github())}\n", "github-token", v),
    "gitlab": lambda k: ("ci.yaml", f"variables:\n  GL: {(v := fakes.gitlab())}\n",
                         "gitlab-token", v),
    "slack token": lambda k: ("s.ini", f"[slack]\nbot = {(v := fakes.slack_token())}\n",
                              "slack-token", v),
    "slack webhook": lambda k: ("alert.yaml", f"url: {(v := fakes.slack_webhook())}\n",
                                "slack-webhook", v),
    "stripe": lambda k: ("p.env", f"STRIPE={(v := fakes.stripe())}\n", "stripe-key", v),
    "npm": lambda k: (".npmrc", f"//registry.npmjs.org/:_authToken={(v := fakes.npm())}\n",
                      "npm-token", v),
    "pypi": lambda k: (".pypirc", f"[pypi]\nusername = __token__\npassword = "
                       f"{(v := fakes.pypi())}\n", "pypi-token", v),
    "vault": lambda k: ("v.env", f"VAULT_TOKEN={(v := fakes.vault())}\n", "vault-token", v),
    "jwt": lambda k: ("j.yaml", f"auth:\n  bearer: {(v := fakes.jwt())}\n", "jwt", v),
    "dockerconfigjson": lambda k: ("config.json", json.dumps({"auths": {"ghcr.io": {
        "auth": (v := _b64("u:" + fakes.password()))}}}, indent=2), "docker-config-auth", v),
    "dockerconfigjson Secret": lambda k: ("pull.yaml", "kind: Secret\ntype: kubernetes.io/"
                                          "dockerconfigjson\ndata:\n  .dockerconfigjson: " + _b64(
        v := json.dumps({"auths": {"r": {"auth": _b64("u:p4ssw0rd!")}}})) + "\n",
        "k8s-secret-plaintext", v),
    "kubeconfig token": lambda k: ("kubeconfig", "apiVersion: v1\nkind: Config\nclusters: []\n"
                                   "contexts: []\nusers:\n- name: u\n  user:\n    token: "
                                   f"{(v := fakes.rand(40))}\n", "kubeconfig-credential", v),
    "kubeconfig client key": lambda k: ("kubeconfig", "kind: Config\ncontexts: []\nusers:\n"
                                        "- name: u\n  user:\n    client-key-data: "
                                        f"{(v := _b64(k['rsa']))}\n", "kubeconfig-credential", v),
    "url credentials": lambda k: ("app.yaml", "db: postgres://app:"
                                  f"{(v := fakes.password())}@db.internal:5432/app\n",
                                  "url-credentials", v),
    "generic yaml": lambda k: ("values.yaml", f"db:\n  password: {(v := fakes.password())}\n",
                               "generic-secret", v),
    "generic json": lambda k: ("c.json", json.dumps({"client_secret": (v := fakes.password())}),
                               "generic-secret", v),
    "generic dotenv": lambda k: (".env", f"export DB_PASS={(v := fakes.password())}\n",
                                 "generic-secret", v),
    "generic ini": lambda k: ("app.ini", f"[db]\npassword = {(v := fakes.password())}\n",
                              "generic-secret", v),
    "helm values apiKey": lambda k: ("values.yaml", f"grafana:\n  apiKey: '{(v := fakes.password())}'\n",
                                     "generic-secret", v),
    "helmrelease values": lambda k: ("hr.yaml", "apiVersion: helm.toolkit.fluxcd.io/v2\n"
                                     "kind: HelmRelease\nspec:\n  values:\n    auth:\n"
                                     f"      adminPassword: {(v := fakes.password())}\n",
                                     "generic-secret", v),
    "kustomize literal": lambda k: ("kustomization.yaml", "secretGenerator:\n  - name: s\n"
                                    f"    literals:\n      - password={(v := fakes.password())}\n",
                                    "k8s-secret-plaintext", v),
    "container env": lambda k: ("deploy.yaml", "kind: Deployment\nspec:\n  env:\n"
                                "    - name: DB_PASSWORD\n"
                                f"      value: \"{(v := fakes.password())}\"\n",
                                "generic-secret", v),
    "cli flag": lambda k: ("job.yaml", f"args: [\"--db-password={(v := fakes.password())}\"]\n",
                           "generic-secret", v),
    "quoted in code": lambda k: ("settings.py", f'API_TOKEN = "{(v := fakes.password())}"\n',
                                 "generic-secret", v),
}

DECOYS: dict[str, Callable[[dict[str, str]], tuple[str, str]]] = {
    "placeholders": lambda k: ("values.yaml", "password: changeme\ntoken: <password>\n"
                               "secret: ${VAR}\napiKey: REPLACE_ME\nclient_secret: xxxx\n"
                               "db_password: '{{ .Values.db.password }}'\n"
                               "adminPassword: \"${ADMIN_PASSWORD}\"\n"),
    "flux substitution Secret": lambda k: ("s.yaml", "kind: Secret\nstringData:\n"
                                           "  domain: ${SECRET_DOMAIN}\n  empty: ''\n"),
    "helm template": lambda k: ("t.yaml", "kind: Secret\ndata:\n  password: "
                                "{{ .Values.password | b64enc }}\n"),
    "references": lambda k: ("d.yaml", "env:\n  - name: DB_PASSWORD\n    valueFrom:\n"
                             "      secretKeyRef: {name: db, key: password}\n"
                             "auth:\n  existingSecret: grafana-admin\n"
                             "  passwordSecret: db-credentials\n"),
    "secret manager refs": lambda k: ("v.yaml", "password: ref+vault://secret/db#pw\n"
                                      "token: op://vault/item/token\n"),
    "public keys and certs": lambda k: ("pub.yaml", f"ssh: {k['ssh-pub']}\ncert: |\n"
                                        f"{_indent(k['cert'], 2)}\npub: |\n"
                                        f"{_indent(k['pub'], 2)}\npgp: |\n"
                                        f"{_indent(k['pgp-public'], 2)}\n"),
    "age recipient and pgp fp": lambda k: (".sops.yaml", "creation_rules:\n  - path_regex: x\n"
                                           f"    age: {k['age-recipient']}\n"
                                           f"    pgp: {k['pgp-fp']}\n"),
    # a data file holding ENC[...] without metadata is an integrity finding
    # (sops-metadata-missing, tests/audit/test_sops_checks.py); docs quoting one are not
    "ENC values in docs": lambda k: ("x.md", "A value sops encrypted: `password: ENC[AES256_GCM,"
                                     "data:abcd,iv:" + "A" * 43 + "=,tag:" + "B" * 22
                                     + "==,type:str]`\n"),
    "sealed secret": lambda k: ("sealed.yaml", "apiVersion: bitnami.com/v1alpha1\n"
                                "kind: SealedSecret\nspec:\n  encryptedData:\n"
                                f"    password: Ag{fakes.rand(300, fakes.ALNUM + '+/')}==\n"),
    "external secret": lambda k: ("es.yaml", "apiVersion: external-secrets.io/v1beta1\n"
                                  "kind: ExternalSecret\nspec:\n  data:\n"
                                  "    - secretKey: password\n      remoteRef:\n"
                                  "        key: prod/db\n        property: password\n"),
    "digests shas uuids checksums": lambda k: ("d.yaml", "image: nginx@sha256:" + "a" * 30
                                               + "0123456789abcdef0123456789abcdef01\n"
                                               "revision: 9fceb02d0ae598e95dc970b74767f19372d61af8\n"
                                               "uid: 123e4567-e89b-12d3-a456-426614174000\n"
                                               "annotations:\n  checksum/secret: "
                                               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934c"
                                               "a495991b7852b855\n"),
    "aws documentation keys": lambda k: ("aws.env", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n"
                                         "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/"
                                         "bPxRfiCYEXAMPLEKEY\n"),
    "header mention only": lambda k: ("check.py", 'if "-----BEGIN RSA PRIVATE KEY-----" in t:\n'
                                      "    pass\n"),
    "invalid age key": lambda k: ("k.txt", "AGE-SECRET-KEY-1" + "Q" * 58 + "\n"),
    "code expressions": lambda k: ("app.py", "password = os.environ['DB_PASSWORD']\n"
                                   "token = get_token()\n"),
    "booleans and settings": lambda k: ("c.yaml", "auth:\n  usePassword: true\n"
                                        "  passwordLength: 32\n  token_ttl: 3600\n"
                                        "  secretName: my-tls\n  password:\n"),
    "url without password": lambda k: ("u.yaml", "repo: https://user@github.com/x/y\n"
                                       "db: postgres://app:${DB_PASSWORD}@db/app\n"),
    "app env substitution": lambda k: ("frigate.yaml", "mqtt:\n  user: mqtt\n"
                                       "  password: \"{FRIGATE_MQTT_PASSWORD}\"\n"),
    "prose in a comment": lambda k: ("s.yaml", "# API_TOKEN: top right corner, then Tokens\n"
                                     "kind: ConfigMap\n"),
    "password equals the user name": lambda k: ("hr.yaml", "env:\n  USER: unifipoller\n"
                                                "  PASS: \"unifipoller\"\n"),
    "shell substitution": lambda k: ("run.sh", 'TOKEN="$(cat /run/secrets/token)"\n'
                                     "PASSWORD=`vault read -field=pw db`\n"),
    "unsigned jwt": lambda k: ("j.txt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4eHh4eHgifQ."
                               "c2lnbmF0dXJlLW5vdC1yZWFs\n"),
}


def _scan(name: str, content: str) -> list:
    return scan_bytes(name, content.encode(), ScanSettings()).findings


def _assert_no_leak(findings: list, secret: str) -> None:
    """No 8-character window of the value in any field (our constant rule titles aside)."""
    value = secret.strip()
    for f in findings:
        shown = json.dumps(f.as_dict())
        title = rule(f.rule).title
        for i in range(max(len(value) - 7, 1)):
            piece = value[i:i + 8]
            if len(piece) == 8 and piece not in title:
                assert piece not in shown, f"{f.rule} leaks part of the value"


@pytest.mark.parametrize("case", SECRETS, ids=list(SECRETS))
def test_secret_is_found(case: str, real_keys: dict[str, str]) -> None:
    name, content, rule, secret = SECRETS[case](real_keys)
    findings = _scan(name, content)
    assert rule in {f.rule for f in findings}, [f.rule for f in findings]
    assert all(f.category == "plaintext" for f in findings)
    _assert_no_leak(findings, secret)


@pytest.mark.parametrize("case", DECOYS, ids=list(DECOYS))
def test_decoy_is_not_a_finding(case: str, real_keys: dict[str, str]) -> None:
    name, content = DECOYS[case](real_keys)
    assert [(f.rule, f.line) for f in _scan(name, content)] == []


def test_encrypted_private_keys_are_high_not_critical(real_keys: dict[str, str]) -> None:
    plain = _scan("a.pem", real_keys["openssh"])[0]
    enc = _scan("b.pem", real_keys["openssh-enc"])[0]
    assert (plain.severity.label, enc.severity.label) == ("critical", "high")


def test_private_key_in_a_secret_is_one_critical_finding(real_keys: dict[str, str]) -> None:
    content = f"kind: Secret\nstringData:\n  tls.key: |\n{_indent(real_keys['rsa'], 4)}\n"
    findings = _scan("tls.yaml", content)
    assert [(f.rule, f.line, f.severity.label) for f in findings] == [
        ("k8s-secret-plaintext", 3, "critical")]


def test_line_numbers_point_at_the_value() -> None:
    findings = _scan("v.yaml", "a: 1\nb:\n  c: 2\n  password: " + fakes.password() + "\n")
    assert [(f.rule, f.line) for f in findings] == [("generic-secret", 4)]


def test_same_secret_same_fingerprint_across_files_and_lines() -> None:
    pw = fakes.password()
    one = _scan("a.yaml", f"password: {pw}\n")[0]
    two = _scan("b/c.yaml", f"x: 1\n\ndb_password: {pw}\n")[0]
    other = _scan("a.yaml", f"password: {fakes.password()}\n")[0]
    assert one.fingerprint == two.fingerprint != other.fingerprint
    assert len(one.fingerprint) == 32


def test_inline_allow_on_the_line_or_the_line_before() -> None:
    pw = fakes.password()
    same = f"password: {pw}  # sopskit: allow generic-secret\n"
    before = f"# sopskit: allow generic-secret, jwt\npassword: {pw}\n"
    other_rule = f"# sopskit: allow private-key\npassword: {pw}\n"
    assert _scan("a.yaml", same) == []
    assert _scan("a.yaml", before) == []
    assert [f.rule for f in _scan("a.yaml", other_rule)] == ["generic-secret"]


def test_generic_findings_say_why_they_fired() -> None:
    """A key name alone is not enough: the value must look like a credential, and the
    message names the key and the shape that made it one (never the value)."""
    assert _scan("v.yaml", "password: hunter2\n") == []
    findings = _scan("v.yaml", "password: Zq7!vK2pLm9x\n")
    assert [(f.rule, f.severity.label) for f in findings] == [("generic-secret", "high")]
    assert findings[0].message.endswith(
        "key 'password' holds 12 chars, upper+lower+digits+symbols, entropy 3.6 bits/char")


def test_line_of_counts_then_tables_the_same_lines() -> None:
    """The first lookups count newlines, later ones use the table: same answers."""
    from sopskit.audit.detectors.source import Source

    text = "a\n\nbc\r\nd\n" * 5 + "tail"
    src = Source("f.txt", text)
    want = [text.count("\n", 0, i) + 1 for i in range(len(text) + 1)]
    assert [src.line_of(i) for i in range(len(text) + 1)] == want
    assert src.line_of(0) == 1 and src.line_of(len(text)) == 21


def test_base64_key_does_not_swallow_the_next_line(real_keys: dict[str, str]) -> None:
    """A base64 run stops at the line end: the next line's `machineToken:` (base64 letters
    up to the colon) is not part of the key, and its own value is still judged."""
    low, digits = "abcdefghijklmnopqrstuvwxyz", "0123456789"
    token = (fakes.rand(3, low) + fakes.rand(3, digits) + "."  # Talos' [a-z0-9]{6}.[a-z0-9]{16}
             + fakes.rand(8, low) + fakes.rand(8, digits))
    text = (f"machineCertKey: {_b64(real_keys['pkcs8'])}\nmachineToken: {token}\n")
    found = {(f.rule, f.line) for f in _scan("talenv.yaml", text)}
    assert found == {("private-key", 1), ("generic-secret", 2)}
