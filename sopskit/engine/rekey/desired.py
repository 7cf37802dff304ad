"""What a file should look like: recipients, key groups and crypt rule for its path.

From the key registry when the repository has one (`registry.resolve`), else from the root
`.sops.yaml` matched as sops would (`registry.sops_config.rule_for`). Either way the answer is a
`CreationRule`, plus names for the recipients the registry knows, so a plan can say
"old-flux (retired)" instead of a bare age1... string.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sopskit.engine.paths import display
from sopskit.errors import UsageError
from sopskit.recipient import Recipient
from sopskit.registry.locate import registry_path
from sopskit.registry.model import Registry
from sopskit.registry.resolve import resolve, today_utc
from sopskit.registry.schema import load_registry
from sopskit.registry.sops_config import (
    CreationRule,
    find_config,
    nearest_config,
    rule_for,
    rule_of,
)
from sopskit.sopsfile.model import Format


@dataclass
class Desired:
    """Where wanted states come from: a registry or a `.sops.yaml` (exactly one)."""

    repo: Path
    registry: Registry | None = None
    sops_config: Path | None = None
    today: date = field(default_factory=today_utc)

    @property
    def source(self) -> str:
        """The registry or .sops.yaml, relative to the repository when inside it."""
        path = self.registry.path if self.registry is not None else self.sops_config
        assert path is not None
        return display(self.repo, path)

    def rule(self, relpath: str, fmt: Format) -> CreationRule:
        """The wanted state of `relpath`; ConfigError when no rule covers it."""
        if self.registry is not None:
            return rule_of(resolve(self.registry, relpath, today=self.today, fmt=fmt))
        assert self.sops_config is not None
        # the config sops finds from the file's directory, as the audit reads it
        config = nearest_config(self.repo, relpath) or self.sops_config
        return rule_for(config, self.repo / relpath)

    def describe(self, recipient: Recipient) -> str:
        """A recipient as a person reads it: registry name and status when known."""
        key = self.registry.key_by_recipient(recipient) if self.registry else None
        if key is None:
            return short(recipient)
        status = key.effective_status(self.today)
        return key.name if status == "active" else f"{key.name} ({status})"

    def describe_text(self, recipient: str) -> str:
        """`describe` for a recipient written as `type:id` (journal and proof records)."""
        kind, _, rid = recipient.partition(":")
        return self.describe(Recipient(kind, rid))  # type: ignore[arg-type]

    def decides(self, recipient: Recipient, rule: CreationRule) -> bool:
        """Whether the wanted state speaks of `recipient` at all: the registry has a key
        for it, or (with a .sops.yaml) the matched rule lists keys of its type."""
        if self.registry is not None:
            return self.registry.key_by_recipient(recipient) is not None
        return any(r.type == recipient.type for r in rule.recipients)

    def status(self, recipient: Recipient) -> str | None:
        """The registry status of a recipient (active/retired/revoked/expired), if known."""
        key = self.registry.key_by_recipient(recipient) if self.registry else None
        return key.effective_status(self.today) if key else None


def short(recipient: Recipient) -> str:
    """`age:age1abcd…wxyz`: enough to tell keys apart in a table."""
    rid = recipient.id
    return f"{recipient.type}:{rid[:10]}…{rid[-6:]}" if len(rid) > 24 else str(recipient)


def load_desired(repo: Path, registry_file: Path | None = None) -> Desired:
    """The registry of `repo` when there is one, else its root `.sops.yaml`."""
    path = registry_path(repo, registry_file)
    if path is not None:
        return Desired(repo, registry=load_registry(path))
    config = find_config(repo)
    if config is None:
        raise UsageError(f"nothing says who may read the files of {repo}: add "
                         "keys/registry.yaml (sopskit init) or a .sops.yaml")
    return Desired(repo, sops_config=config)



def require_registry(repo: Path, registry_file: Path | None = None) -> Registry:
    """The repository's registry; UsageError when it has none."""
    path = registry_path(repo, registry_file)
    if path is None:
        raise UsageError(f"no key registry in {repo} (keys/registry.yaml): run sopskit init")
    return load_registry(path)
