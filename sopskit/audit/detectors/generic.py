"""Generic secrets: a literal assigned to a secret-like key (`password`, `client_secret`,
`apiKey`, `DB_TOKEN`, ...) in YAML, JSON, dotenv, INI, Helm values, HelmRelease
`spec.values`, kustomize `secretGenerator` literals / env files, CLI flags and Kubernetes
`env` entries (`- name: DB_PASSWORD` + `value: ...`).

Line based on purpose: every format above writes `key <sep> value` on one line, so one
keyword search over the text finds the few candidate lines and no parser runs. Values are
judged by `values` (placeholders, references, ENC[...] are not secrets). In source code only
quoted literals count (an unquoted right-hand side is an expression). Documents whose kind
manages secrets by reference (ExternalSecret, SealedSecret, SecretStore, ...) are skipped:
their `secretKey: password` lines name keys, not values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from sopskit.audit.detectors import values
from sopskit.audit.detectors.source import Hit, Source, document_kinds, kind_at
from sopskit.audit.finding import Severity

# Searched in the lower-cased text: a case-sensitive alternation is ~3x faster than (?i).
_KEYWORDS = (r"pass|pwd|secret|token|api[_\-.]?key|private[_\-.]?key|access[_\-.]?key|"
             r"credential|auth[_\-.]?key")
_KEYWORD = re.compile(_KEYWORDS)
_KEYWORD_I = re.compile(_KEYWORDS, re.I)  # non-ASCII text: lower() may change offsets
_TEMPLATE = r"\$\{[^}\n]*\}|\{\{.*?\}\}"
_ASSIGN = re.compile(
    r"(?P<q>[\"']?)(?P<key>[A-Za-z_][A-Za-z0-9_.\-/]*)(?P=q)[ \t]*(?::=|:|=)[ \t]*"
    r"(?P<val>\"(?:[^\"\\]|\\.)*\"|'[^']*'"
    rf"|(?:{_TEMPLATE}|[^\s,;{{}})\[\]])(?:{_TEMPLATE}|[^,;{{}})\]])*)")
_ENV_NAME = re.compile(r"^\s*-?\s*name:\s*[\"']?([A-Za-z0-9_.\-]+)[\"']?\s*$")
_ENV_VALUE = re.compile(r"^\s*value:\s*(.+)$")
_BLOCK = re.compile(r"^[|>][+-]?\d*$")
_SUFFIXES = ("password", "passwd", "passphrase", "pass", "pwd", "secret", "token", "apikey",
             "secretkey", "accesskey", "privatekey", "credentials", "credential", "authkey",
             "encryptionkey", "signingkey", "masterkey")
_NOT_PREFIXES = ("existing", "checksum", "use", "enable", "require", "is", "has", "allow",
                 "with", "no", "skip", "show", "generate")
_K8S_NAME = re.compile(r"^[a-z0-9]([a-z0-9\-.]*[a-z0-9])?$")
_CODE = frozenset((".py", ".go", ".js", ".ts", ".jsx", ".tsx", ".java", ".rb", ".rs", ".c",
                   ".h", ".cc", ".cpp", ".cs", ".php", ".kt", ".swift", ".scala", ".tf",
                   ".hcl", ".sh", ".bash", ".zsh", ".ps1", ".lua", ".pl", ".groovy", ".j2"))
_PROSE = frozenset((".md", ".rst", ".adoc", ".txt"))
_EXPRESSION = re.compile(r"[\s()\[\]`]")  # prose: an unquoted value with these is code or text
_TEXT = re.compile(r"\s|\\[nt]")
_BY_REFERENCE = frozenset(("ExternalSecret", "ClusterExternalSecret", "SecretStore",
                           "ClusterSecretStore", "SealedSecret", "PushSecret",
                           "VaultStaticSecret", "VaultDynamicSecret", "OnePasswordItem"))
_BOOLISH = frozenset(("true", "false", "yes", "no", "on", "off", "null", "~"))


def normalise_key(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def is_secret_key(key: str) -> bool:
    norm = normalise_key(key)
    if not norm.endswith(_SUFFIXES) or norm.startswith(_NOT_PREFIXES):
        return False
    return not norm.endswith(("bypass", "compass", "surpass", "keypass"))


def detect(src: Source) -> Iterator[Hit]:
    text = src.text
    kinds: list[tuple[int, str | None]] | None = None
    done_until = -1
    found = _KEYWORD.finditer(text.lower()) if text.isascii() else _KEYWORD_I.finditer(text)
    for m in found:
        if m.start() < done_until:
            continue
        start, end = src.line_bounds(m.start())
        done_until = end
        if kinds is None:
            kinds = document_kinds(src)
        if kind_at(kinds, start) in _BY_REFERENCE:
            continue
        yield from _line(src, start, end)


def _line(src: Source, start: int, end: int) -> Iterator[Hit]:
    line = src.text[start:end]
    env = _ENV_NAME.match(line)
    if env:
        if is_secret_key(env.group(1)):
            yield from _env_value(src, end, env.group(1))
        return
    code = src.suffix in _CODE
    prose = src.suffix in _PROSE or line.lstrip().startswith(("#", "//", ";"))
    for m in _ASSIGN.finditer(line):
        if not is_secret_key(m.group("key")):
            continue
        raw = m.group("val").strip()
        quoted = raw[:1] in "\"'"
        if (code and not quoted) or (prose and not quoted and _EXPRESSION.search(raw)):
            continue
        if code and _TEXT.search(raw):
            continue  # a string with spaces or escapes in code is text or a template
        value = (_block_value(src, end) if _BLOCK.match(raw)
                 else values.unquote(raw) if quoted else values.unquote(raw).rstrip("\"'"))
        hit = _judge(src, start + m.start("key"), m.group("key"), value)
        if hit and not _is_user_name(src, start, value):
            yield hit


_USER = re.compile(r"(?i)user(?:name)?[\"']?[ \t]*[:=][ \t]*[\"']?([^\s\"',;]+)")


def _is_user_name(src: Source, line_start: int, value: str) -> bool:
    """The value repeats the user name set within 3 lines: a default credential that anyone
    reading the user name knows (`user: unifipoller` / `pass: unifipoller`)."""
    before = src.text.rfind("\n", 0, max(line_start - 1, 0))
    for _ in range(2):
        before = src.text.rfind("\n", 0, max(before, 0))
    end = line_start
    for _ in range(4):
        nxt = src.text.find("\n", end + 1)
        end = len(src.text) if nxt == -1 else nxt
    window = src.text[max(before, 0):end]
    return any(m.group(1) == value for m in _USER.finditer(window))


def _env_value(src: Source, name_end: int, key: str) -> Iterator[Hit]:
    nxt_end = src.text.find("\n", name_end + 1)
    line = src.text[name_end + 1: nxt_end if nxt_end != -1 else len(src.text)]
    m = _ENV_VALUE.match(line)
    if m:
        hit = _judge(src, name_end + 1, key, values.unquote(m.group(1)))
        if hit:
            yield hit


def _block_value(src: Source, line_end: int) -> str:
    """The first line of a YAML block scalar following `key: |` (enough to judge it)."""
    rest = src.text[line_end + 1: line_end + 4096].split("\n")
    for line in rest:
        if line.strip():
            return line.strip()
    return ""


def _judge(src: Source, offset: int, key: str, value: str) -> Hit | None:
    if not value or value.lower() in _BOOLISH or value.startswith(("*", "&", "!!")):
        return None
    if value.isdigit() and len(value) < 6:
        return None
    if not values.is_literal_secret(value):
        return None
    if normalise_key(key).endswith("secret") and _K8S_NAME.match(value) and "-" in value:
        return None  # `adminSecret: grafana-admin`: the name of a Secret object
    strong = len(value) >= 12 or (len(value) >= 8 and values.entropy(value) >= 2.5)
    detail = "high-entropy" if strong else "short or low-entropy"
    return Hit("generic-secret", src.line_of(offset), value, f"key '{key}', {detail} value",
               None if strong else Severity.MEDIUM)
