"""Which of many literal needles a text holds, in one pass (an RE2 set: a DFA over all of
them, linear in the text) instead of one substring search per needle and file. The
prefilter of the table-driven detectors: most files hold no needle and reach no regex."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import re2


class Needles:
    """Literal needles (case-sensitive) and named RE2 prefilters, matched together."""

    def __init__(self, needles: Iterable[str], regexes: Mapping[str, str] | None = None) -> None:
        literals = sorted(set(needles))
        named = sorted((regexes or {}).items())
        self.items: tuple[str, ...] = (*literals, *(name for name, _ in named))
        options = re2.Options()
        options.log_errors = False
        self._set = re2.Set.SearchSet(options)
        for needle in literals:
            self._set.Add(re2.escape(needle))
        for _, regex in named:
            self._set.Add(regex)
        self._set.Compile()

    def present(self, text: str) -> frozenset[str]:
        """The needles (and names of the prefilters) that occur in `text`, anywhere."""
        return frozenset(self.items[i] for i in self._set.Match(text) or ())
