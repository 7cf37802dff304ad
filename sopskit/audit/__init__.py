"""The audit: plaintext secrets, recipient and rotation gaps, integrity, config drift.

`sopskit.audit` is both this package and the public API function `sopskit.audit(path)`
(docs/api.md): Python binds a package to its parent's attribute when it is imported, which
would hide a function of that name, so the package itself is made callable and calls
`sopskit.api.audit`.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sopskit.audit.result import AuditResult


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> AuditResult:
        from sopskit.api import audit

        return audit(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
