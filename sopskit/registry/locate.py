"""Where the registry of a repository is: `--registry`, else `SOPSKIT_REGISTRY`, else
`keys/registry.yaml` under the repository root."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from sopskit.errors import InputError

DEFAULT_RELPATH = Path("keys") / "registry.yaml"
ENV_VAR = "SOPSKIT_REGISTRY"


def registry_path(repo: Path, explicit: Path | str | None = None,
                  env: Mapping[str, str] | None = None) -> Path | None:
    """The registry file to use, or None when the repository has none.

    An explicitly named file (option or environment) must exist; a relative one is taken
    from the working directory, as any command-line path.
    """
    environ = os.environ if env is None else env
    named = explicit if explicit is not None else environ.get(ENV_VAR) or None
    if named is not None:
        path = Path(named).absolute()
        if not path.is_file():
            raise InputError("registry file does not exist", path=named)
        return path
    default = repo / DEFAULT_RELPATH
    return default if default.is_file() else None
