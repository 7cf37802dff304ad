"""`sopskit init`: a first registry (and its `.sops.yaml`) for a repository."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sopskit.errors import UsageError
from sopskit.fsio import write_atomic
from sopskit.registry import fields
from sopskit.registry.locate import DEFAULT_RELPATH
from sopskit.registry.model import Registry
from sopskit.registry.schema import parse_registry
from sopskit.registry.sops_config import render, write_path

TEMPLATE = """\
# The key registry of this repository: which keys exist, who owns them, and which
# clusters may read which paths. Format: docs/registry.md of sopskit.
# After any change run `sopskit config render` to regenerate .sops.yaml.
version: 1
defaults:
  encrypted_regex: ^(data|stringData)$   # YAML and JSON files: only Secret data is encrypted
  mac_only_encrypted: false
  encrypted_files: ["**/*.sops.*", "**/*.enc.*"]   # names that promise an encrypted file
clusters:
{clusters}
keys: {{}}   # add keys with `sopskit keys add` or `sopskit keys generate`
rules:   # first match wins, top to bottom
{rules}
"""


def discover_clusters(repo: Path) -> list[str]:
    """The directories under `clusters/` (the Flux layout), sorted."""
    base = repo / "clusters"
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))


def registry_text(clusters: Sequence[str]) -> str:
    for name in clusters:
        try:
            fields.name(name, "cluster")
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    return TEMPLATE.format(
        clusters="\n".join(f'  {c}: {{description: ""}}' for c in clusters),
        rules="\n".join(f"  - path: clusters/{c}/**\n    clusters: [{c}]" for c in clusters))


def init(repo: Path, clusters: Sequence[str] = ()) -> tuple[Path, Path, Registry]:
    """Write keys/registry.yaml and .sops.yaml; refuse to overwrite either."""
    names = list(dict.fromkeys(clusters)) or discover_clusters(repo)
    if not names:
        raise UsageError("no clusters/ directories found; name clusters with --cluster NAME")
    registry_path, config_path = repo / DEFAULT_RELPATH, write_path(repo)
    for path in (registry_path, config_path):
        if path.exists():
            raise UsageError("already exists; refusing to overwrite it", path=path)
    text = registry_text(names)
    registry = parse_registry(text, registry_path)
    registry_path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(registry_path, text)
    write_atomic(config_path, render(registry, source=DEFAULT_RELPATH.as_posix()))
    return registry_path, config_path, registry
