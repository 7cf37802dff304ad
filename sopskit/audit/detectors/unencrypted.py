"""A file whose name promises sops encryption (`*.sops.*`, `*.enc.*`, the registry's
`encrypted_files`, or a `.sops.yaml` rule selecting only such names) but has no metadata.

Templates of sops files (`secret.sops.yaml.j2`, `*.tmpl`) are plaintext by design.
Plain manifests under a rule's path are not findings by themselves: rules say who reads a
path, not that every file there is a secret (issue 4).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sopskit import regex as re2go
from sopskit import yamlio
from sopskit.audit.filekind import is_template_name
from sopskit.errors import InputError
from sopskit.registry.model import SOPS_CONFIG_NAMES
from sopskit.registry.sops_config import find_config

DEFAULT_PATTERNS = ("**/*.sops.*", "**/*.enc.*")
# `name.sops.ext` with a non-empty name: the config file `.sops.yaml` itself promises nothing.
_DEFAULT_NAME = re.compile(r"(?:^|/)[^/]+\.(?:sops|enc)\.[^/]+$")
# A creation rule whose regex spells `.sops.` or `.enc.` in the file name only selects
# files that promise encryption.
_PROMISING_REGEX = re.compile(r"(?:\\\.|\.)(?:sops|enc)(?:\\\.|\.|\\b|\$|$)")


class Matcher(Protocol):
    def match(self, relpath: str) -> bool: ...


@dataclass(frozen=True)
class Promise:
    """Which repository-relative paths must hold sops content."""

    globs: tuple[str, ...] = DEFAULT_PATTERNS
    regexes: tuple[str, ...] = ()
    registry_globs: tuple[Matcher, ...] | None = None  # the registry's, when there is one

    def promised(self, relpath: str) -> bool:
        if relpath.rsplit("/", 1)[-1] in SOPS_CONFIG_NAMES:
            return False  # sops' config: `*.sops.*` matches `.sops.yaml`, which is no secret
        if is_template_name(relpath):
            return False  # `secret.sops.yaml.j2` renders to a file that is then encrypted
        if self.registry_globs is not None:
            return any(g.match(relpath) for g in self.registry_globs)
        if self.globs == DEFAULT_PATTERNS:
            if _DEFAULT_NAME.search(relpath):
                return True
        elif any(fnmatch.fnmatchcase(relpath, g) for g in self.globs):
            return True
        return any(re2go.compile(r).search(relpath) for r in self.regexes)


def promising_regexes(path_regexes: list[str]) -> tuple[str, ...]:
    """The `.sops.yaml` path_regex values that select only encrypted-looking names."""
    out = []
    for regex in path_regexes:
        if not re2go.is_valid(regex):  # sops itself fails on it (config.go)
            continue
        if _PROMISING_REGEX.search(regex):
            out.append(regex)
    return tuple(out)


def config_promise(repo: Path) -> Promise:
    """The promise when there is no registry: the default names, plus the root
    `.sops.yaml` path_regex values that select only encrypted-looking names (a config that
    cannot be read or parsed promises nothing more: its own checks report it)."""
    regexes: list[str] = []
    config = find_config(repo)
    if config is not None:
        try:
            data = yamlio.load(config.read_text(encoding="utf-8"), path=str(config))
        except (OSError, UnicodeDecodeError, InputError):
            data = None
        rules = data.get("creation_rules") if isinstance(data, dict) else None
        regexes = [str(r["path_regex"]) for r in rules or [] if isinstance(r, dict)
                   and r.get("path_regex")]
    return Promise(DEFAULT_PATTERNS, promising_regexes(regexes))
