"""Parse YAML into sops' ordered tree: the fast reader for what sops itself writes
(`yamlfast`), else the full composer (`yamlcompose`, which imports ruamel.yaml only when a
file needs it: start-up time counts when a CLI run verifies a few files)."""

from __future__ import annotations

from sopskit.sopsfile import yamlfast
from sopskit.sopsfile.tree import Branch


def load(text: str, *, path: str) -> list[Branch]:
    """Every document of `text` as a branch (a document must be a mapping or empty)."""
    fast = yamlfast.load(text)
    if fast is not None:
        return fast
    from sopskit.sopsfile import yamlcompose

    return yamlcompose.load(text, path=path)
