"""Generic secrets: a literal assigned to a secret-like key (`password`, `client_secret`,
`apiKey`, `DB_TOKEN`, ...) in YAML, JSON, dotenv, INI, Helm values, HelmRelease
`spec.values`, kustomize `secretGenerator` literals / env files, CLI flags and Kubernetes
`env` entries (`- name: DB_PASSWORD` + `value: ...`).

Line based on purpose: every format above writes `key <sep> value` on one line, so one
keyword search over the text finds the few candidate lines and no parser runs. A key name
alone proves nothing: the value must look like a credential (`values.credential_shape`:
length, character classes, entropy; not a word, path, identifier, tag, hash, placeholder or
reference), and the finding says why it fired. The file's kind (`filekind`) is decided
first: documentation is prose and is skipped, minified code too; in source code only quoted
literals count (an unquoted right-hand side is an expression); in scripts, workflows and
Taskfiles `$NAME` is an expansion. Commented-out lines are skipped (specific detectors still
see them). Documents whose kind manages secrets by reference (ExternalSecret, SealedSecret,
SecretStore, ...) are skipped: their `secretKey: password` lines name keys, not values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import re2

from sopskit.audit import filekind
from sopskit.audit.detectors import values
from sopskit.audit.detectors.source import (
    Hit,
    Source,
    document_kinds,
    has_escapes,
    kind_at,
    unescape,
)

# Searched in the lower-cased text: a case-sensitive alternation is ~3x faster than (?i).
# Every ending in _SUFFIXES must hold one of these (a key no keyword finds is never judged).
_KEYWORDS = (r"pass|pwd|secret|token|api[_\-.]?key|private[_\-.]?key|access[_\-.]?key|"
             r"credential|auth[_\-.]?key|encryption[_\-.]?key|signing[_\-.]?key|"
             r"master[_\-.]?key")
_KEYWORD = re2.compile(_KEYWORDS.encode())  # RE2 over the ASCII bytes: ~2x `re` here
# Non-ASCII text (lower() may change offsets): RE2 (?i) over UTF-8, which finds exactly what
# `re.compile(_KEYWORDS, re.I)` finds, character for character (tests/audit/
# test_re2_prefilters.py checks every code point): RE2 folds case as `re` does but for `İ`
# and `ı`, which `re` takes for `i`. The `re` (?i) alternation took ~120 us a search, a
# third of the history scan of some repositories.
_KEYWORD_U = re2.compile(("(?i)" + _KEYWORDS.replace("i", "[iİı]")).encode())
_TEMPLATE = r"\$\{[^}\n]*\}|\{\{.*?\}\}"
# A key: quoted (any characters: `"db password"`) or bare. After `:` YAML needs a space
# unless the key is quoted (`- Secret:/sops` is a list item, not a mapping).
_ASSIGN = re.compile(
    r"(?:\"(?P<k1>[^\"\n]{1,120})\"|'(?P<k2>[^'\n]{1,120})'"
    # k3 is bounded like k1/k2: unbounded, every start inside a 70,000-character word
    # re-scanned the rest of it (quadratic; a fuzzed file took a minute in `audit`)
    r"|(?P<k3>[A-Za-z_][A-Za-z0-9_.\-/]{0,119}))[ \t]*(?P<sep>:=|:|=)(?P<sp>[ \t]*)"
    r"(?P<val>\"(?:[^\"\\]|\\.)*\"|'[^']*'"
    rf"|(?:{_TEMPLATE}|[^\s,;{{}})\[\]])(?:{_TEMPLATE}|[^,;{{}})\]])*|$)")
_ENV_NAME = re.compile(r"^\s*-?\s*name:\s*[\"']?([A-Za-z0-9_.\-]+)[\"']?\s*$")
_ENV_VALUE = re.compile(r"^\s*value:\s*(.+)$")
_BLOCK = re.compile(r"^[|>][+-]?\d*$")
_SUFFIXES = ("password", "passwd", "passphrase", "pass", "pwd", "secret", "token", "apikey",
             "secretkey", "accesskey", "privatekey", "credentials", "credential", "authkey",
             "encryptionkey", "signingkey", "masterkey")
_NOT_PREFIXES = ("existing", "checksum", "use", "enable", "require", "is", "has", "allow",
                 "with", "no", "skip", "show", "generate")
_K8S_NAME = re.compile(r"^[a-z0-9]([a-z0-9\-.]*[a-z0-9])?$")
_SHELLS = frozenset((".sh", ".bash", ".zsh", ".fish", ".ps1"))
_COMMENT = ("#", "//", ";", "/*", "*", "<!--", "--")
_TEXT = re.compile(r"\s|\\[nt]")
_BY_REFERENCE = frozenset(("ExternalSecret", "ClusterExternalSecret", "SecretStore",
                           "ClusterSecretStore", "SealedSecret", "PushSecret",
                           "VaultStaticSecret", "VaultDynamicSecret", "OnePasswordItem"))
_PROPERTIES = re.compile(r"^(?:!!\w+|&[^\s]+)\s+")  # `!!str x`, `&anchor x`: judge x


def normalise_key(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def is_secret_key(key: str) -> bool:
    norm = normalise_key(key).rstrip("0123456789")  # `DB_PASSWORD_2`, `"token[0]"`
    if not norm.endswith(_SUFFIXES) or norm.startswith(_NOT_PREFIXES):
        return False
    return not norm.endswith(("bypass", "compass", "surpass", "keypass"))


def detect(src: Source) -> Iterator[Hit]:
    text = src.text
    kind = filekind.classify(src.path, text)
    if kind in ("docs", "minified"):
        return
    if kind == "config" and has_escapes(text):
        src = Source(src.path, unescape(text))  # `"p\\u0061ssword"`: same lines, decoded
        text = src.text
    kinds: list[tuple[int, str | None]] | None = None
    for start, end in _keyword_lines(src):
        line = text[start:end]
        if line.lstrip().startswith(_COMMENT):
            continue  # commented-out config; real tokens there are the specific detectors'
        if _inert(line):
            continue
        if kinds is None:
            kinds = document_kinds(src)
        if kind_at(kinds, start) in _BY_REFERENCE:
            continue
        yield from _line(src, start, end, kind)


def _keyword_lines(src: Source) -> Iterator[tuple[int, int]]:
    """(start, end) of each line holding a keyword. One keyword per line is enough: the
    search starts again at the end of the line (a manifest has ~25 keywords, most of them
    on lines already seen)."""
    if src.text.isascii():
        ascii_lower = src.lower.encode("ascii")  # byte offsets are character offsets
        m = _KEYWORD.search(ascii_lower)
        while m is not None:
            start, end = src.line_bounds(m.start())
            yield start, end
            m = _KEYWORD.search(ascii_lower, end)
        return
    # byte offsets of the UTF-8 text turned into character offsets line by line: a line
    # break is never inside a character, and each stretch between is decoded once
    data = src.text.encode("utf-8", "surrogatepass")
    done_bytes = done_chars = 0  # a line end (or 0) as a byte and as a character offset
    found = _KEYWORD_U.search(data)
    while found is not None:
        line_start = data.rfind(b"\n", 0, found.start()) + 1
        line_end = data.find(b"\n", found.start())
        line_end = len(data) if line_end == -1 else line_end
        start = done_chars + len(data[done_bytes:line_start].decode("utf-8", "surrogatepass"))
        end = start + len(data[line_start:line_end].decode("utf-8", "surrogatepass"))
        yield start, end
        done_bytes, done_chars = line_end, end
        found = _KEYWORD_U.search(data, line_end)


_INERT: dict[str, bool] = {}
_INERT_MAX = 100_000  # lines remembered per process (a history repeats most lines)


def _inert(line: str) -> bool:
    """Whether `_line` finds nothing on `line` whatever surrounds it: no key on it (nor the
    `name:` of an env entry) is a secret key. That depends on the line alone, so it is
    remembered: most keyword lines (`existingSecret:`, `secretRef:`) are inert, and the
    versions of a file in a history repeat them."""
    known = _INERT.get(line)
    if known is None:
        env = _ENV_NAME.match(line)
        if env:
            known = not is_secret_key(env.group(1))
        else:
            known = not any(is_secret_key(m.group("k1") or m.group("k2") or m.group("k3") or "")
                            for m in _ASSIGN.finditer(line))
        if len(_INERT) >= _INERT_MAX:
            _INERT.clear()
        _INERT[line] = known
    return known


def _line(src: Source, start: int, end: int, kind: filekind.FileKind) -> Iterator[Hit]:
    line = src.text[start:end]
    shell = kind in ("workflow", "taskfile") or src.suffix in _SHELLS
    env = _ENV_NAME.match(line)
    if env:
        if is_secret_key(env.group(1)):
            yield from _env_value(src, end, env.group(1), shell)
        return
    code = kind == "source"
    for m in _ASSIGN.finditer(line):
        key = m.group("k1") or m.group("k2") or m.group("k3") or ""
        if not is_secret_key(key):
            continue
        raw = m.group("val").strip()
        quoted = bool(raw) and raw[0] in "\"'"
        if m.group("sep") == ":" and m.group("k3") and not m.group("sp") and raw and not quoted:
            continue  # `key:value` is one YAML scalar (a list item, a URL), not a mapping
        if code and (not quoted or _TEXT.search(raw)):
            continue  # code: an expression, or a string with spaces / escapes (text)
        if not raw and m.group("sep") == ":":
            value = _next_line_value(src, line, end)  # `password:` then the value below
        else:
            value = (_block_value(src, end) if _BLOCK.match(raw)
                     else values.unquote(raw) if quoted else values.unquote(raw).rstrip("\"'"))
        hit = _judge(src, start + m.start(), key, value, shell)
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


def _env_value(src: Source, name_end: int, key: str, shell: bool) -> Iterator[Hit]:
    nxt_end = src.text.find("\n", name_end + 1)
    line = src.text[name_end + 1: nxt_end if nxt_end != -1 else len(src.text)]
    m = _ENV_VALUE.match(line)
    if m:
        hit = _judge(src, name_end + 1, key, values.unquote(m.group(1)), shell)
        if hit:
            yield hit


_MAPPING_LINE = re.compile(r"^(?:\"[^\"]*\"|'[^']*'|[^\s:]+)[ \t]*:(?:[ \t]|$)")


def _next_line_value(src: Source, line: str, line_end: int) -> str:
    """A plain scalar continued on the next, more indented line (`password:` / `  value`);
    "" when that line is a nested mapping, a list or nothing."""
    nxt_end = src.text.find("\n", line_end + 1)
    nxt = src.text[line_end + 1: nxt_end if nxt_end != -1 else len(src.text)].rstrip("\r")
    stripped = nxt.strip()
    if not stripped or len(nxt) - len(nxt.lstrip()) <= len(line) - len(line.lstrip()):
        return ""
    if stripped.startswith(("-", "#", "?", "{", "[", "|", ">")) or _MAPPING_LINE.match(stripped):
        return ""
    return values.unquote(stripped)


def _block_value(src: Source, line_end: int) -> str:
    """The first line of a YAML block scalar following `key: |` (enough to judge it)."""
    rest = src.text[line_end + 1: line_end + 4096].split("\n")
    for line in rest:
        if line.strip():
            return line.strip()
    return ""


def _judge(src: Source, offset: int, key: str, value: str, shell: bool) -> Hit | None:
    value = _PROPERTIES.sub("", value)
    if value.startswith(("*", "!")):
        return None  # a YAML alias, or an application tag (`!env_var X`, `!secret x`)
    if not values.is_literal_secret(value):
        return None
    if normalise_key(key).endswith("secret") and _K8S_NAME.match(value) and "-" in value:
        return None  # `adminSecret: grafana-admin`: the name of a Secret object
    why = values.credential_shape(value, shell=shell)
    if why is None:
        return None
    return Hit("generic-secret", src.line_of(offset), value, f"key '{key}' holds {why}")
