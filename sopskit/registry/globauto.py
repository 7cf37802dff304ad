"""Exact reasoning about glob languages: inclusion, intersection, and suffix restriction.

Used for two registry questions that sampling could only approximate:
- can rule j ever match, or does every path it matches hit an earlier rule first?
  (L(j) ∩ ValidPaths ⊆ ∪ L(i<j), decided on a product of Thompson NFAs, determinised
  lazily over a finite alphabet of representative characters);
- which paths of a rule are YAML/JSON files (the glob's language restricted to names ending
  in `.yaml`/`.yml`/`.json`), computed as a right quotient on the token sequence so the
  result is again a plain regex that sops (Go RE2, no lookaround) can run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sopskit.registry.glob import Alt, AnyChar, Cls, Lit, Rest, Segs, Seq, Star, Token

MAX_STATES = 50_000

# An edge label: a literal character, "N" (any but '/'), "A" (any), or a class.
Label = str | Cls


@dataclass
class _Nfa:
    edges: list[list[tuple[Label | None, int]]] = field(default_factory=list)  # None: epsilon

    def state(self) -> int:
        self.edges.append([])
        return len(self.edges) - 1

    def add(self, src: int, label: Label | None, dst: int) -> None:
        self.edges[src].append((label, dst))


def _build(nfa: _Nfa, seq: Seq, start: int) -> int:
    """Add `seq` to `nfa` from `start`; return its end state."""
    cur = start
    for tok in seq:
        cur = _build_token(nfa, tok, cur)
    return cur


def _build_token(nfa: _Nfa, tok: Token, cur: int) -> int:
    nxt = nfa.state()
    if isinstance(tok, Lit):
        nfa.add(cur, tok.ch, nxt)
    elif isinstance(tok, AnyChar):
        nfa.add(cur, "N", nxt)
    elif isinstance(tok, Cls):
        nfa.add(cur, tok, nxt)
    elif isinstance(tok, Star | Rest):
        nfa.add(cur, None, nxt)
        nfa.add(nxt, "N" if isinstance(tok, Star) else "A", nxt)
    elif isinstance(tok, Segs):
        loop = nfa.state()
        nfa.add(cur, None, nxt)
        nfa.add(cur, None, loop)
        nfa.add(loop, "A", loop)
        nfa.add(loop, "/", nxt)
    else:
        for option in tok.options:
            nfa.add(_build(nfa, option, cur), None, nxt)
    return nxt


def _accepts(label: Label, ch: str) -> bool:
    if isinstance(label, Cls):
        return label.matches(ch)
    if label == "A":
        return True
    if label == "N":
        return ch != "/"
    return label == ch


@dataclass(frozen=True)
class _Machine:
    nfa: _Nfa
    start: int
    accept: frozenset[int]

    def closure(self, states: Iterable[int]) -> frozenset[int]:
        todo = list(states)
        seen = set(todo)
        while todo:
            for label, dst in self.nfa.edges[todo.pop()]:
                if label is None and dst not in seen:
                    seen.add(dst)
                    todo.append(dst)
        return frozenset(seen)

    def step(self, states: frozenset[int], ch: str) -> frozenset[int]:
        moved = {dst for s in states for label, dst in self.nfa.edges[s]
                 if label is not None and _accepts(label, ch)}
        return self.closure(moved)

    def initial(self) -> frozenset[int]:
        return self.closure([self.start])

    def accepting(self, states: frozenset[int]) -> bool:
        return not self.accept.isdisjoint(states)

    def sinks(self) -> frozenset[int]:
        """States from which every continuation is accepted: a loop on any character that
        reaches acceptance by epsilon (a trailing `**`). A state set holding one accepts
        everything from there on (sufficient, not necessary)."""
        return frozenset(s for s, edges in enumerate(self.nfa.edges)
                         if ("A", s) in edges and self.accepting(self.closure([s])))


def machine(seqs: Sequence[Seq]) -> _Machine:
    """One NFA for the union of the languages of `seqs`."""
    nfa = _Nfa()
    start = nfa.state()
    ends = frozenset(_build(nfa, seq, start) for seq in seqs)
    return _Machine(nfa, start, ends)


def matches(seq: Seq, path: str) -> bool:
    """Run the NFA of `seq` on `path` (an implementation independent of `re`)."""
    m = machine([seq])
    states = m.initial()
    for ch in path:
        states = m.step(states, ch)
        if not states:
            return False
    return m.accepting(states)


def _labels(seq: Seq) -> Iterable[tuple[str, str]]:
    for tok in seq:
        if isinstance(tok, Lit):
            yield tok.ch, tok.ch
        elif isinstance(tok, Cls):
            yield from tok.ranges
        elif isinstance(tok, Alt):
            for option in tok.options:
                yield from _labels(option)


def alphabet(seqs: Iterable[Seq]) -> tuple[str, ...]:
    """Representative characters: one in every interval on which all labels agree.

    Membership changes only at a range's `lo` or at `hi + 1`, so those points (plus `/`,
    its neighbours and one ordinary letter) meet every uniform interval.
    """
    points = {"/", "0", ".", "a"}
    for seq in seqs:
        for lo, hi in _labels(seq):
            points.add(lo)
            points.add(chr(ord(hi) + 1))
            if ord(lo) > 1:
                points.add(chr(ord(lo) - 1))
    return tuple(sorted(points))


# Valid repository paths: non-empty segments, no leading or trailing '/'.
_SEG_START, _IN_SEG, _DEAD = 0, 1, 2


def _valid_step(state: int, ch: str) -> int:
    if state == _DEAD:
        return _DEAD
    if ch == "/":
        return _SEG_START if state == _IN_SEG else _DEAD
    return _IN_SEG


class Undecided(Exception):
    """The search grew past MAX_STATES; the caller must not conclude anything."""


def witness(seq: Seq, others: Sequence[Seq], *, inside: bool) -> str | None:
    """A valid path in L(seq) and (inside=True) in some L(other) / (inside=False) in none;
    None when there is no such path. Raises Undecided when the search is too large."""
    mine, theirs = machine([seq]), machine(others)
    sinks = theirs.sinks()
    chars = alphabet([seq, *others])
    start = (mine.initial(), theirs.initial(), _SEG_START)
    seen = {start}
    queue: deque[tuple[tuple[frozenset[int], frozenset[int], int], str]] = deque([(start, "")])
    while queue:
        (a, b, v), text = queue.popleft()
        if mine.accepting(a) and v == _IN_SEG and theirs.accepting(b) == inside:
            return text
        for ch in chars:
            nxt = (mine.step(a, ch), theirs.step(b, ch), _valid_step(v, ch))
            if not nxt[0] or nxt[2] == _DEAD or nxt in seen:
                continue
            if not inside and not sinks.isdisjoint(nxt[1]):
                continue  # every path from here matches `others`: no witness this way
            if len(seen) >= MAX_STATES:
                raise Undecided
            seen.add(nxt)
            queue.append((nxt, text + ch))
    return None


def _literal_end(seq: Seq, *, prefix: bool) -> str:
    """The literal text every match of `seq` starts (or ends) with."""
    out = []
    for tok in (seq if prefix else reversed(seq)):
        if not isinstance(tok, Lit):
            break
        out.append(tok.ch)
    return "".join(out if prefix else reversed(out))


def may_overlap(a: Seq, b: Seq) -> bool:
    """False only when the literal prefixes or suffixes rule out any common path (cheap)."""
    pa, pb = _literal_end(a, prefix=True), _literal_end(b, prefix=True)
    sa, sb = _literal_end(a, prefix=False), _literal_end(b, prefix=False)
    return (pa.startswith(pb) or pb.startswith(pa)) and (sa.endswith(sb) or sb.endswith(sa))


def covered(seq: Seq, earlier: Sequence[Seq]) -> bool:
    """True when every valid path matching `seq` matches one of `earlier` (exact)."""
    relevant = [e for e in earlier if may_overlap(seq, e)]
    if not relevant:
        return False
    return witness(seq, relevant, inside=False) is None


def overlaps(a: Seq, b: Seq) -> bool:
    """True when some valid path matches both."""
    return may_overlap(a, b) and witness(a, [b], inside=True) is not None


# --- restricting a glob to names with a given suffix ------------------------------------------

def _quotient(seq: Seq, ch: str) -> set[Seq]:
    """Right quotient of L(seq) by one character: {u : u·ch ∈ L(seq)}, as token sequences."""
    if not seq:
        return set()
    head, last = seq[:-1], seq[-1]
    if isinstance(last, Lit):
        return {head} if last.ch == ch else set()
    if isinstance(last, AnyChar):
        return {head} if ch != "/" else set()
    if isinstance(last, Cls):
        return {head} if last.matches(ch) else set()
    if isinstance(last, Star):
        return _quotient(head, ch) | ({seq} if ch != "/" else set())
    if isinstance(last, Rest):
        return _quotient(head, ch) | {seq}
    if isinstance(last, Segs):  # ε | .*/
        return _quotient(head, ch) | ({(*head, Rest())} if ch == "/" else set())
    out: set[Seq] = set()
    for option in last.options:
        out |= _quotient(head + option, ch)
    return out


def with_suffix(seq: Seq, suffix: str) -> set[Seq]:
    """Sequences R with L(seq) ∩ Σ*·suffix = ∪ L(R)·suffix."""
    current = {seq}
    for ch in reversed(suffix):
        current = {q for s in current for q in _quotient(s, ch)}
    return current
