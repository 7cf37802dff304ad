"""Kubernetes Secrets with plaintext `data` / `stringData` (multi-document YAML, `kind: List`,
JSON manifests), and Flux's `sops-age` Secret holding a plaintext `.agekey`.

Any plaintext value of a Secret is a finding whatever it looks like (`username: admin` too):
a Secret in a GitOps repository must be encrypted. Not findings: empty values, ENC[...]
values, Flux substitutions (`${SECRET_DOMAIN}`) and other placeholders. Templates that are
not YAML (Helm charts) are left to the line-based detectors.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from typing import Any

from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from sopskit import yamlio
from sopskit.audit.detectors import values
from sopskit.audit.detectors.source import Hit, Source
from sopskit.errors import InputError

_FIELDS = ("data", "stringData")
# A file worth composing: a top-level `kind: Secret`, a List that may hold one, or JSON.
_CANDIDATE = re.compile(r"^kind:[ \t]*[\"']?Secret[\"']?[ \t]*(?:#.*)?$|^kind:[ \t]*[\"']?\w*List\b"
                        r"|\"kind\"\s*:\s*\"Secret\"", re.M)


def detect(src: Source) -> Iterator[Hit]:
    text = src.text
    if "Secret" not in text or not _CANDIDATE.search(text):
        return
    try:
        docs = yamlio.compose_all(text, path=src.path)
    except (InputError, RecursionError, ValueError):
        return
    for doc in docs:
        for secret in _secrets(doc):
            yield from _values(src, secret)


def _get(node: MappingNode, key: str) -> Any:
    for k, v in node.value:
        if isinstance(k, ScalarNode) and k.value == key:
            return v
    return None


def _scalar(node: Any) -> str | None:
    return node.value if isinstance(node, ScalarNode) else None


def _secrets(node: Any) -> Iterator[MappingNode]:
    """Secret objects in a document: itself, or the items of a `kind: List`."""
    if not isinstance(node, MappingNode):
        return
    kind = _scalar(_get(node, "kind"))
    if kind == "Secret":
        yield node
    elif kind is not None and kind.endswith("List"):
        items = _get(node, "items")
        if isinstance(items, SequenceNode):
            for item in items.value:
                yield from _secrets(item)


def _values(src: Source, secret: MappingNode) -> Iterator[Hit]:
    name = _scalar(_get(_get(secret, "metadata") or MappingNode("", []), "name")) or ""
    for field in _FIELDS:
        block = _get(secret, field)
        if not isinstance(block, MappingNode):
            continue
        for key_node, value_node in block.value:
            value = _scalar(value_node)
            if value is None or not value.strip() or values.is_encrypted(value):
                continue
            plain = _decode(value) if field == "data" else value
            if plain is None or not values.is_literal_secret(plain):
                continue
            where = f"Secret '{name}' {field}.{key_node.value}"
            yield _hit(src, where, str(key_node.value), value_node, plain)


def _decode(value: str) -> str | None:
    """A `data` value's content; a value that is not base64 is judged as written."""
    try:
        return base64.b64decode("".join(value.split()), validate=True).decode("utf-8",
                                                                              "replace")
    except (binascii.Error, ValueError):
        return value


def _hit(src: Source, where: str, key: str, node: ScalarNode, plain: str) -> Hit:
    line = node.start_mark.line + 1
    last = max(node.end_mark.line, line)
    if key.endswith(".agekey") and "AGE-SECRET-KEY-1" in plain:
        return Hit("flux-age-key", line, plain, where,
                   last_line=last)
    return Hit("k8s-secret-plaintext", line, plain, where,
               last_line=last)
