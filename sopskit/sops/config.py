"""Where the sops-binary layer finds `.sops.yaml`: the one model lives in
`sopskit.registry.sops_config` (read and written there only); these names are kept for
the modules and tests that import them from here."""

from __future__ import annotations

from sopskit.registry.sops_config import (
    CONFIG_NAME,
    CreationRule,
    SopsConfig,
    TempConfig,
    find_config,
    nearest_config,
    rule_for,
)
from sopskit.registry.sops_config import render_rule as render

__all__ = ["CONFIG_NAME", "CreationRule", "SopsConfig", "TempConfig", "find_config",
           "nearest_config", "render", "rule_for"]
