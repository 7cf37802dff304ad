"""A deliberately naive reference glob matcher (brace expansion + segment recursion), written
independently of sopskit.registry.glob, for the property tests."""

from __future__ import annotations


def _find_close(text: str, start: int, open_: str, close: str) -> int:
    depth, i = 0, start
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[" and open_ == "{":
            i = _find_close(text, i, "[", "]") + 1
            continue
        if ch == open_:
            depth += 1
        elif ch == close:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError("unbalanced")


def expand(pattern: str) -> list[str]:
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] == "[":
            i = _find_class_end(pattern, i) + 1
            continue
        if pattern[i] == "{":
            end = _find_close(pattern, i, "{", "}")
            options = _split_commas(pattern[i + 1:end])
            return [r for o in options for r in expand(pattern[:i] + o + pattern[end + 1:])]
        i += 1
    return [pattern]


def _find_class_end(p: str, i: int) -> int:
    j = i + 1
    if j < len(p) and p[j] in "!^":
        j += 1
    if j < len(p) and p[j] == "]":
        j += 1
    while p[j] != "]":
        j += 2 if p[j] == "\\" else 1
    return j


def _split_commas(body: str) -> list[str]:
    out, depth, cur, i = [], 0, "", 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            cur += body[i:i + 2]
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    return [*out, cur]


def _seg_match(p: str, s: str) -> bool:
    if not p:
        return not s
    ch = p[0]
    if ch == "*":
        rest = p.lstrip("*")
        return any(_seg_match(rest, s[k:]) for k in range(len(s) + 1))
    if not s:
        return False
    if ch == "?":
        return _seg_match(p[1:], s[1:])
    if ch == "[":
        end = _find_class_end(p, 0)
        return _in_class(p[1:end], s[0]) and _seg_match(p[end + 1:], s[1:])
    if ch == "\\":
        return p[1] == s[0] and _seg_match(p[2:], s[1:])
    return ch == s[0] and _seg_match(p[1:], s[1:])


def _in_class(body: str, c: str) -> bool:
    negated = body[:1] in ("!", "^")
    if negated:
        body = body[1:]
    found, i = False, 0
    while i < len(body):
        lo = body[i + 1] if body[i] == "\\" else body[i]
        i += 2 if body[i] == "\\" else 1
        hi = lo
        if i + 1 < len(body) and body[i] == "-":
            hi = body[i + 2] if body[i + 1] == "\\" else body[i + 1]
            i += 3 if body[i + 1] == "\\" else 2
        found = found or lo <= c <= hi
    return found != negated


def _segs_match(pats: list[str], segs: list[str]) -> bool:
    if not pats:
        return not segs
    if pats[0] == "**" or (pats[0].strip("*") == "" and len(pats[0]) > 1):
        if len(pats) == 1:  # trailing **: one or more segments
            return len(segs) >= 1
        return any(_segs_match(pats[1:], segs[k:]) for k in range(len(segs) + 1))
    return bool(segs) and _seg_match(pats[0], segs[0]) and _segs_match(pats[1:], segs[1:])


def ref_match(pattern: str, path: str) -> bool:
    return any(_segs_match(alt.split("/"), path.split("/")) for alt in expand(pattern))
