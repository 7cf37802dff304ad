"""Which leaves are encrypted (sops.go: Tree.shouldBeEncrypted), evaluated on the whole path.

Regexes are Go RE2 with unanchored search (`regexp.Match`), run by `sopskit.regex`. An
invalid regex matches nothing, as in sops (the error is ignored).
"""

from __future__ import annotations

from collections.abc import Sequence

from sopskit import regex as re2go
from sopskit.sopsfile.model import CryptRule


class Evaluator:
    """shouldBeEncrypted for one file's rule; path-only rules are cached per path."""

    def __init__(self, rule: CryptRule) -> None:
        self.rule = rule
        self.kind = rule.kind
        self.regex = re2go.try_compile(rule.value) if rule.kind.endswith("regex") else None
        self.uses_comments = rule.kind.endswith("comment_regex")
        self._cache: dict[tuple[str, ...], bool] = {}

    def by_path(self, path: tuple[str, ...]) -> bool:
        hit = self._cache.get(path)
        if hit is None:
            hit = self._cache[path] = self._by_path(path)
        return hit

    def _by_path(self, path: tuple[str, ...]) -> bool:
        kind, value = self.kind, self.rule.value
        if kind == "unencrypted_suffix":
            return not any(p.endswith(value) for p in path)
        if kind == "encrypted_suffix":
            return any(p.endswith(value) for p in path)
        if kind == "unencrypted_regex":
            return not (self.regex and any(self.regex.search(p) for p in path))
        if kind == "encrypted_regex":
            return bool(self.regex and any(self.regex.search(p) for p in path))
        return True

    def with_comments(self, stack: Sequence[Sequence[str]], is_comment: bool) -> bool:
        """The two comment-regex rules look at the active comments of every level."""
        regex = self.regex
        if self.kind == "unencrypted_comment_regex":
            return not (regex and any(regex.search(c) for level in stack for c in level))
        last_level = len(stack) - 1
        for i, level in enumerate(stack):
            for j, text in enumerate(level):
                # The matching comment line itself stays plaintext (sops.go).
                if is_comment and i == last_level and j == len(level) - 1:
                    continue
                if regex and regex.search(text):
                    return True
        return False
