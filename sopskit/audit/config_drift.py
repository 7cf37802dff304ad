"""Config findings: the registry is invalid, or `.sops.yaml` is not what the registry
renders (sops obeys `.sops.yaml`, so drift means sops and sopskit disagree on recipients)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sopskit.audit.finding import Finding
from sopskit.audit.fingerprint import subject_fingerprint
from sopskit.audit.rules import rule
from sopskit.errors import ConfigError, InputError
from sopskit.registry.model import Registry
from sopskit.registry.schema import load_registry
from sopskit.registry.sops_config import render

SOPS_CONFIG = ".sops.yaml"


def _finding(rule_id: str, path: str, line: int | None, message: str, *subject: str) -> Finding:
    r = rule(rule_id)
    return Finding(path, line, r.id, r.category, r.severity, r.message(message),
                   subject_fingerprint(r.id, path, *subject))


def load(path: Path, relpath: str) -> tuple[Registry | None, list[Finding]]:
    """The registry, or None and a registry-invalid finding per problem."""
    try:
        return load_registry(path), []
    except ConfigError as exc:
        problems = exc.problems or (exc.message,)
        return None, [_finding("registry-invalid", relpath, None, p, p) for p in problems]
    except InputError as exc:
        return None, [_finding("registry-invalid", relpath, exc.line, exc.message,
                               exc.message)]


def drift(repo: Path, registry: Registry, *, today: date) -> list[Finding]:
    """A config-drift finding when `.sops.yaml` differs from the registry's rendering."""
    config = repo / SOPS_CONFIG
    expected = render(registry, today=today)
    if not config.is_file():
        return [_finding("config-drift", SOPS_CONFIG, None, "missing: run `sopskit config "
                         "render`", "missing")]
    actual = config.read_text(encoding="utf-8", errors="replace")
    if actual == expected:
        return []
    line = _first_difference(actual, expected)
    return [_finding("config-drift", SOPS_CONFIG, line, "run `sopskit config render`"
                     " (this is the first line that differs)", "differs")]


def _first_difference(a: str, b: str) -> int:
    for n, (x, y) in enumerate(zip(a.split("\n"), b.split("\n"), strict=False), start=1):
        if x != y:
            return n
    return min(a.count("\n"), b.count("\n")) + 1
