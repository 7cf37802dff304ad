"""Which of many literal needles a text holds, in one pass (an RE2 set: a DFA over all of
them, linear in the text) instead of one substring search per needle and file. The
prefilter of the table-driven detectors: most files hold no needle and reach no regex."""

from __future__ import annotations

from collections.abc import Iterable

import re2


class Needles:
    def __init__(self, needles: Iterable[str]) -> None:
        self.items: tuple[str, ...] = tuple(sorted(set(needles)))
        options = re2.Options()
        options.log_errors = False
        self._set = re2.Set.SearchSet(options)
        for needle in self.items:
            self._set.Add(re2.escape(needle))
        self._set.Compile()

    def present(self, text: str) -> frozenset[str]:
        """The needles that occur in `text` (case-sensitive, anywhere)."""
        return frozenset(self.items[i] for i in self._set.Match(text) or ())
