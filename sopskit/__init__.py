"""sopskit: key registry, verified encrypt/decrypt/rekey and audit for SOPS secrets.

The public Python API is what `__all__` lists (docs/api.md); every other module is
internal. The functions are imported on first use, so that `import sopskit` (and the CLI's
start-up) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "SopskitError",
    "__version__",
    "audit",
    "decrypt",
    "encrypt",
    "load_registry",
    "verify",
]

if TYPE_CHECKING:
    from sopskit.api import audit, decrypt, encrypt, load_registry, verify
    from sopskit.errors import SopskitError

# `audit` is the package sopskit.audit, which is callable (see its docstring)
_LAZY = {"decrypt": "sopskit.api", "encrypt": "sopskit.api", "load_registry": "sopskit.api",
         "verify": "sopskit.api", "SopskitError": "sopskit.errors", "audit": None}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'sopskit' has no attribute {name!r}")
    import importlib

    module = _LAZY[name]
    if module is None:  # importing the package binds it here
        return importlib.import_module(f"sopskit.{name}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
