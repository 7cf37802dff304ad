"""Every YAML load and dump of sopskit goes through here.

sops uses go-yaml v3, which resolves scalars by YAML 1.2 rules (`yes`/`on` stay strings,
no sexagesimal or `0o`-less octal ints) and keeps comments. PyYAML implements YAML 1.1
(`yes` -> True), which would change the MAC of plaintext values, so we use ruamel.yaml:
it resolves YAML 1.2 by default and its round-trip loader keeps comments, key order and
line numbers, which we need both for the MAC walk and for editing the registry in place.
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from sopskit.errors import InputError


def round_trip() -> YAML:
    """A loader/dumper that keeps comments, order, quoting and line numbers."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.allow_duplicate_keys = False
    yaml.width = 4096
    return yaml


def safe() -> YAML:
    """A plain-data YAML 1.2 loader/dumper (dict, list, str, int, float, bool, None)."""
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_duplicate_keys = False
    yaml.default_flow_style = False
    yaml.width = 4096
    return yaml


def load(text: str, *, path: str, rt: bool = False) -> Any:
    """Load one YAML document; errors name the file and line."""
    try:
        return (round_trip() if rt else safe()).load(text)
    except YAMLError as exc:
        raise _input_error(exc, path) from None


def load_all(text: str, *, path: str, rt: bool = True) -> list[Any]:
    """Load every document of a YAML stream; errors name the file and line."""
    try:
        return list((round_trip() if rt else safe()).load_all(text))
    except YAMLError as exc:
        raise _input_error(exc, path) from None


def compose_all(text: str, *, path: str) -> list[Any]:
    """The node graph of every document (ruamel `Node`s with marks; aliases are shared nodes).

    Uses the libyaml-based C composer when ruamel.yaml.clib is installed (~10x faster than
    the pure one; the sops file engine parses hundreds of files per run). Scalars are left
    for the caller to resolve (sopsfile.yamlscalar mirrors go-yaml v3).
    """
    try:
        return list(_composer().compose_all(text))
    except YAMLError as exc:
        raise _input_error(exc, path) from None


def _composer() -> YAML:
    yaml = YAML(typ="safe", pure=False)
    yaml.allow_duplicate_keys = True  # the caller reports duplicates with their line
    return yaml


def dump(data: Any, *, rt: bool = False) -> str:
    """Serialise one document."""
    buf = io.StringIO()
    (round_trip() if rt else safe()).dump(data, buf)
    return buf.getvalue()


def _input_error(exc: YAMLError, path: str) -> InputError:
    line = None
    problem = "invalid YAML"
    if isinstance(exc, MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        if mark is not None:
            line = mark.line + 1
        problem = f"invalid YAML: {exc.problem or exc.context or 'parse error'}"
    # Never include the offending text: it may be a secret value.
    return InputError(problem, path=path, line=line)
