"""Which of many literal needles a text holds, in one pass (an RE2 set: a DFA over all of
them, linear in the text) instead of one substring search per needle and file. The
prefilter of the table-driven detectors: most files hold no needle and reach no regex.

Detectors `register` their needles when imported; `present(src)` matches all of them in one
pass per file (cached on the `Source`), so two detectors do not scan the text twice."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import re2

from sopskit.audit.detectors.source import Source


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


_literals: set[str] = set()
_regexes: dict[str, str] = {}
_shared: list[Needles] = []  # the compiled set of everything registered (rebuilt on change)


def register(needles: Iterable[str], regexes: Mapping[str, str] | None = None) -> None:
    """Add a detector's literal needles and named RE2 prefilters to the shared pass."""
    _literals.update(needles)
    for name, regex in (regexes or {}).items():
        if _regexes.get(name, regex) != regex:
            raise ValueError(f"prefilter {name!r} registered twice with different regexes")
        _regexes[name] = regex
    _shared.clear()


def shared() -> Needles:
    """Everything registered, compiled once (again after a later `register`)."""
    if not _shared:
        _shared.append(Needles(_literals, _regexes))
    return _shared[0]


def present(src: Source) -> frozenset[str]:
    """Every registered needle (and prefilter name) that occurs in `src.text`: one pass
    over the text for all detectors, remembered on the Source."""
    if src.present is None:
        src.present = shared().present(src.text)
    return src.present
