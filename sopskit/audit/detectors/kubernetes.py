"""Kubernetes Secrets with plaintext `data` / `stringData` however YAML or JSON lets them be
written (flow style, CRLF, BOM, quoted or spaced keys, tags and anchors, aliases and merge
keys, escapes such as `Secr\\u0065t`, multi-document streams, `kind: List`, Secrets nested
in other objects such as Helm values' `extraObjects`), kustomize `secretGenerator` literals,
and Flux's `sops-age` Secret holding a plaintext `.agekey`.

Any plaintext value of a Secret is a finding whatever it looks like (`username: admin` too):
a Secret in a GitOps repository must be encrypted. Not findings: empty values, ENC[...]
values, Flux substitutions (`${SECRET_DOMAIN}`) and other placeholders. In a template of a
Secret (`secret.sops.yaml.j2`, an example copy) a value must also look like a credential.
Severity follows the secret: a private key or age identity is critical wherever it sits,
a certificate alone is public (low). A Secret in a YAML document no parser reads (a Helm
chart template, tab indentation) is read line by line.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from typing import Any

import re2
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from sopskit import yamlio
from sopskit.audit import filekind
from sopskit.audit.detectors import private_keys, providers, values
from sopskit.audit.detectors.source import Hit, Source, has_escapes, unescape
from sopskit.audit.finding import Severity
from sopskit.audit.rules import rule
from sopskit.errors import InputError

_FIELDS = ("data", "stringData")
# A file worth composing: `kind` with a value that may be Secret or a List (tags, anchors,
# quotes, a line break in between), an alias or merge key that may carry one, or a
# kustomize secretGenerator.
_CANDIDATE_RE = (r"kind[\"']?\s*:\s*(?:[!&]\S*\s+)*[\"']?(?:Secret\b|\w*List\b|\*)"
                 r"|<<\s*:|secretGenerator")
_CANDIDATE = re.compile(_CANDIDATE_RE)
# the same over ASCII bytes in RE2 (`re` tried every `kind` of a 250 KB CRD bundle: a
# millisecond a file); Python's `\s` also takes \v, RE2's does not
_CANDIDATE_ASCII = re2.compile(_CANDIDATE_RE.replace(r"\s", r"[\s\v]").replace(r"\S", r"[^\s\v]")
                               .encode())
_MAX_DEPTH = 40
_CERT_ONLY = re.compile(r"\A(?:\s*-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+"
                        r"-----END CERTIFICATE-----)+\s*\Z")
_KEY_MARKERS = ("PRIVATE KEY", "AGE-SECRET-KEY-", "age-secret-key-")


def is_candidate(text: str) -> bool:
    if has_escapes(text):
        text = unescape(text)
    if "Secret" not in text and "secretGenerator" not in text:
        return False
    if text.isascii():
        return _CANDIDATE_ASCII.search(text.encode("ascii")) is not None
    return _CANDIDATE.search(text) is not None


def detect(src: Source) -> Iterator[Hit]:
    if not is_candidate(src.text) or not _may_hold_values(src.text):
        return
    template = filekind.is_template_name(src.path)
    unparsed: list[tuple[int, str]] = []
    for doc in _documents(src, unparsed):
        for secret in _secrets(doc, 0):
            yield from _values(src, secret, template)
        if src.name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
            yield from _generator_literals(src, doc, template)
    if _YAML_NAME.search(src.name):  # not Markdown or code that merely shows a Secret
        for first_line, part in unparsed:
            yield from _unparsed_secret(src, first_line, part, template)


def _documents(src: Source, unparsed: list[tuple[int, str]] | None = None) -> list[Any]:
    """Every document's node graph; a stream that fails as a whole (one templated
    document among rendered ones) is composed document by document. Documents that still
    fail (a Helm chart template, tab indentation) go to `unparsed` (first line, text)."""
    try:
        return yamlio.compose_all(_without_sops_metadata(src.text), path=src.path)
    except (InputError, RecursionError, ValueError):
        pass
    docs: list[Any] = []
    text = src.text
    seps = list(_DOC_SEP.finditer(text))
    for start, end in zip([0] + [m.end() for m in seps], [m.start() for m in seps] + [len(text)],
                          strict=True):
        part = text[start:end]
        if "Secret" not in part and "secretGenerator" not in part and "\\" not in part:
            continue
        # keep line numbers: pad the part with the newlines that preceded it
        lines_before = text.count("\n", 0, start)
        try:
            docs += yamlio.compose_all("\n" * lines_before + part, path=src.path)
        except (InputError, RecursionError, ValueError):
            if unparsed is not None:
                unparsed.append((lines_before + 1, part))
    return docs


# A key that parses to `data` or `stringData` is written so (a quote, a tag, an anchor or a
# `{`, `,` or space before it, never a letter: `metadata`), unless escapes or a `\` line
# continuation spell it; a value is reported only under one (or a generator literal). Most
# candidates are HelmReleases whose `valuesFrom` names a Secret: composing them found nothing.
_FIELD_WORD = re2.compile(rb"(?:^|[^A-Za-z0-9_.\-])(?:data|stringData)(?:[^A-Za-z0-9_.\-]|$)")


def _may_hold_values(text: str) -> bool:
    return ("\\" in text or "secretGenerator" in text
            or _FIELD_WORD.search(text.encode("utf-8", "surrogatepass")) is not None)


def _without_sops_metadata(text: str) -> str:
    """`text` with each top-level `sops:` metadata block (YAML block style) blanked, its
    lines kept as empty lines: half the composing of a sops Secret, and no Secret value is
    in there. A block with an anchor (`&`: a value elsewhere may alias it) or the word
    `Secret` (a Secret hidden under a `sops:` key) is kept."""
    if not (text.startswith("sops:") or "\nsops:" in text):
        return text
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        rest = line[5:].strip(" \t\r") if line.startswith("sops:") else None
        if rest is None or (rest and not rest.startswith("#")):  # not `sops:` opening a block
            i += 1
            continue
        end = i + 1
        while end < len(lines) and (not lines[end].strip() or lines[end][:1] in " \t#"):
            end += 1
        if not any("&" in part or "Secret" in part for part in lines[i:end]):
            lines[i:end] = [""] * (end - i)
        i = end
    return "\n".join(lines)


_YAML_NAME = re.compile(r"\.ya?ml(?:\.[A-Za-z0-9]+)?$", re.I)
_DOC_SEP = re.compile(r"^---[ \t]*(?:#.*)?\r?$", re.M)
_TOP_SECRET = re.compile(r"^kind:[ \t]*[\"']?Secret[\"']?[ \t]*(?:#.*)?\r?$", re.M)
_FIELD = re.compile(r"^(?P<ind>[ \t]*)(?:stringData|data):[ \t]*(?:#.*)?$")
_ENTRY = re.compile(r"^(?P<ind>[ \t]+)(?P<key>\"[^\"]+\"|'[^']+'|[^\s:#{}\[\]][^:]*?):"
                    r"(?:[ \t]+(?P<val>.*?))?[ \t]*$")


def _unparsed_secret(src: Source, first_line: int, part: str,
                     template: bool) -> Iterator[Hit]:
    """A Secret in a document no YAML parser reads (a Helm chart template with `{{ }}`,
    tabs): its `data` / `stringData` entries read line by line. Templated values are
    placeholders; a literal one is hard-coded in the chart."""
    if not _TOP_SECRET.search(part):
        return
    lines = part.replace("\r\n", "\n").split("\n")
    field: tuple[str, int] | None = None  # (field name, its indentation)
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "{{")):
            continue
        indent = len(line) - len(line.lstrip())
        m = _FIELD.match(line)
        if m:
            field = (stripped.split(":", 1)[0], indent)
            continue
        if field is None or indent <= field[1]:
            field = None
            continue
        entry = _ENTRY.match(line)
        if entry is None or entry.group("val") in (None, "", "|", "|-", ">", ">-"):
            continue
        key = entry.group("key").strip("\"'")
        value = values.unquote(entry.group("val"))
        if not value.strip() or values.is_encrypted(value):
            continue
        plain = _decode(value) if field[0] == "data" else value
        if plain is None or not _is_secret_value(plain, template):
            continue
        line_no = first_line + i
        yield Hit("k8s-secret-plaintext", line_no, plain,
                  f"Secret {field[0]}.{key} (in a document YAML cannot parse)",
                  last_line=line_no)


def _pairs(node: MappingNode, depth: int = 0) -> Iterator[tuple[Any, Any]]:
    """Key/value pairs of a mapping, merge keys (`<<: *base`) included."""
    for k, v in node.value:
        if isinstance(k, ScalarNode) and k.value == "<<" and depth < 8:
            for base in (v.value if isinstance(v, SequenceNode) else [v]):
                if isinstance(base, MappingNode):
                    yield from _pairs(base, depth + 1)
        else:
            yield k, v


def _all(node: MappingNode, key: str) -> list[Any]:
    """Every value of `key` (a duplicated key counts each time: parsers disagree on which
    one wins, so each is checked)."""
    return [v for k, v in _pairs(node) if isinstance(k, ScalarNode) and k.value == key]


def _get(node: MappingNode, key: str) -> Any:
    found = _all(node, key)
    return found[-1] if found else None


def _scalar(node: Any) -> str | None:
    return node.value if isinstance(node, ScalarNode) else None


def _secrets(node: Any, depth: int) -> Iterator[MappingNode]:
    """Secret objects anywhere in a document: itself, List items, or nested (Helm values'
    `extraObjects`, a HelmRelease's `spec.values`)."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(node, MappingNode):
        if any(_scalar(v) == "Secret" for v in _all(node, "kind")):
            yield node
            return
        for _, v in _pairs(node):
            yield from _secrets(v, depth + 1)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            yield from _secrets(item, depth + 1)


def _values(src: Source, secret: MappingNode, template: bool) -> Iterator[Hit]:
    meta = _get(secret, "metadata")
    name = (_scalar(_get(meta, "name")) if isinstance(meta, MappingNode) else None) or ""
    for field in _FIELDS:
        for block in _all(secret, field):
            if not isinstance(block, MappingNode):
                continue
            for key_node, value_node in _pairs(block):
                value = _scalar(value_node)
                if value is None or not value.strip() or values.is_encrypted(value):
                    continue
                plain = _decode(value) if field == "data" else value
                if plain is None or not _is_secret_value(plain, template):
                    continue
                where = f"Secret '{name}' {field}.{_scalar(key_node)}"
                yield _hit(src, where, str(_scalar(key_node)), value_node, plain)


def _is_secret_value(plain: str, template: bool) -> bool:
    if not values.is_literal_secret(plain):
        return False
    if not template:
        return True
    return any(m in plain for m in _KEY_MARKERS) or values.credential_shape(plain) is not None


def _generator_literals(src: Source, doc: Any, template: bool) -> Iterator[Hit]:
    """kustomize `secretGenerator[].literals` (`KEY=value`): each makes a Secret value."""
    if not isinstance(doc, MappingNode):
        return
    generators = _get(doc, "secretGenerator")
    if not isinstance(generators, SequenceNode):
        return
    for gen in generators.value:
        if not isinstance(gen, MappingNode):
            continue
        name = _scalar(_get(gen, "name")) or ""
        literals = _get(gen, "literals")
        for item in literals.value if isinstance(literals, SequenceNode) else []:
            text = _scalar(item)
            if text is None or "=" not in text:
                continue
            key, value = text.split("=", 1)
            value = values.unquote(value)
            if not value.strip() or values.is_encrypted(value):
                continue
            if not _is_secret_value(value, template):
                continue
            where = f"secretGenerator '{name}' literal {key.strip()}"
            yield _hit(src, where, key.strip(), item, value)


_KUSTOMIZATION = frozenset(("kustomization.yaml", "kustomization.yml", "Kustomization"))


def generator_sources(src: Source) -> tuple[tuple[str, str], ...]:
    """Files a kustomization's `secretGenerator` turns into Secret values: (repository path,
    "env" for `envs`/`env` dotenv files or "file" for `files`). kustomize resolves them from
    the kustomization's directory; Flux decrypts them when they are sops files."""
    if src.name not in _KUSTOMIZATION or "secretGenerator" not in src.text:
        return ()
    base = src.path.rsplit("/", 1)[0] + "/" if "/" in src.path else ""
    out: list[tuple[str, str]] = []
    for doc in _documents(src):
        generators = _get(doc, "secretGenerator") if isinstance(doc, MappingNode) else None
        for gen in generators.value if isinstance(generators, SequenceNode) else []:
            if not isinstance(gen, MappingNode):
                continue
            for field, mode in (("envs", "env"), ("env", "env"), ("files", "file")):
                node = _get(gen, field)
                items = node.value if isinstance(node, SequenceNode) else [node]
                for item in items:
                    ref = _scalar(item)
                    if ref:
                        path = _normpath(base + ref.split("=", 1)[-1].strip())
                        if path is not None:
                            out.append((path, mode))
    return tuple(out)


def _normpath(path: str) -> str | None:
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None  # outside the repository
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts) or None


_ENV_KEY = re.compile(r"(?:export\s+)?[A-Za-z_.\-][A-Za-z0-9_.\-]{0,127}")


def source_values(src: Source, mode: str) -> Iterator[Hit]:
    """Every value of a plaintext file a secretGenerator reads: each `KEY=value` of an env
    file, or the whole of a `files` entry."""
    if mode == "file":
        text = src.text.strip()
        if text and values.is_literal_secret(text):
            yield Hit("k8s-secret-plaintext", 1, text, f"secretGenerator file {src.name}",
                      last_line=src.line_of(len(src.text)))
        return
    for number, line in enumerate(src.text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or "=" not in stripped:
            continue
        key, value = stripped.split("=", 1)
        value = values.unquote(value)
        if value.strip() and not values.is_encrypted(value) and values.is_literal_secret(value):
            # the part before `=` is named only when it is a name: on a line that is no
            # KEY=value (a URL with credentials) it may be the secret itself
            name = key.strip() if _ENV_KEY.fullmatch(key.strip()) else "(a line with no key)"
            yield Hit("k8s-secret-plaintext", number, value,
                      f"secretGenerator env file value {name}", last_line=number)


def _decode(value: str) -> str | None:
    """A `data` value's content; a value that is not base64 is judged as written."""
    try:
        return base64.b64decode("".join(value.split()), validate=True).decode("utf-8",
                                                                              "replace")
    except (binascii.Error, ValueError):
        return value


def _strongest(plain: str) -> Hit | None:
    """The most severe specific secret inside a (decoded) value: a private key, an age
    identity or a provider credential in a Secret is as severe as anywhere else."""
    inner = Source("value", plain)
    found = [h for h in (*private_keys.detect(inner), *providers.detect(inner))]
    return max(found, key=lambda h: h.severity or rule(h.rule).severity, default=None)


def _hit(src: Source, where: str, key: str, node: ScalarNode, plain: str) -> Hit:
    line = node.start_mark.line + 1
    last = max(node.end_mark.line, line)
    if key.endswith(".agekey") and "age-secret-key-" in plain.lower():
        return Hit("flux-age-key", line, plain, where, last_line=last)
    if _CERT_ONLY.match(plain):
        return Hit("k8s-secret-plaintext", line, plain, f"{where} (a certificate: public)",
                   Severity.LOW, last_line=last)
    inner = _strongest(plain)
    if inner is not None:
        severity = max(inner.severity or rule(inner.rule).severity,
                       rule("k8s-secret-plaintext").severity)
        return Hit("k8s-secret-plaintext", line, plain, f"{where} ({rule(inner.rule).title})",
                   severity, last_line=last)
    return Hit("k8s-secret-plaintext", line, plain, where, last_line=last)
