"""Rules that can never match because earlier rules take every path they match.

Decided exactly on the glob languages (globauto.covered), restricted to valid repository
paths (non-empty segments), so `a/*/b` after `a/?*/b` is reported even though the only
string told apart, `a//b`, is no path. A search too large to finish is a warning, never a
guessed problem.
"""

from __future__ import annotations

from collections.abc import Sequence

from sopskit.registry import globauto
from sopskit.registry.model import Rule


def shadow_problems(rules: Sequence[Rule],
                    warnings: list[str]) -> list[tuple[str, str, int | None]]:
    """(where, message, line) for every rule that earlier rules shadow completely."""
    out = []
    for position, rule in enumerate(rules):
        earlier = rules[:position]
        try:
            if not globauto.covered(rule.glob.tokens, [r.glob.tokens for r in earlier]):
                continue
            culprits = _culprits(rule, earlier)
        except globauto.Undecided:
            warnings.append(f"{rule.label}.path: too complex to check whether earlier rules"
                            " shadow it")
            continue
        out.append((f"{rule.label}.path", f"can never match: every path matching"
                    f" {rule.path!r} is matched first by {culprits}", rule.line))
    return out


def _culprits(rule: Rule, earlier: Sequence[Rule]) -> str:
    for other in earlier:
        if globauto.covered(rule.glob.tokens, [other.glob.tokens]):
            return f"{other.label} ({other.path!r})"
    parts = [f"{o.label} ({o.path!r})" for o in earlier
             if globauto.overlaps(rule.glob.tokens, o.glob.tokens)]
    return " and ".join(parts) + " together"
