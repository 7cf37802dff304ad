"""Which rule governs which secret file of the repository, and what no rule covers.

The registry's own shadowing check (`shadow.py`) proves a rule can never match any path. A
rule can also be dead in practice: every secret file its glob matches is taken by an earlier
rule first (the classic `**/*.env` after `clusters/sandbox/**`, whose `encrypted_regex: null`
then never applies to `clusters/sandbox/app.env`). That depends on the files, so it is
computed here against the repository, for `rules list` and `init`.

Secret files are sops files found by content and files whose names promise encryption
(`defaults.encrypted_files`).
"""

from __future__ import annotations

import posixpath
import shlex
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sopskit.errors import UsageError
from sopskit.registry.glob import Glob, GlobError, shown
from sopskit.registry.model import Registry, Rule
from sopskit.registry.resolve import recipients_of_rule, sops_format
from sopskit.registry.usage import MAX_SCAN_BYTES, repo_files
from sopskit.sopsfile.document import detect_format, looks_like_sops


@dataclass(frozen=True)
class RuleUse:
    """One rule against the repository's secret files."""

    rule: Rule
    governs: tuple[str, ...]  # files this rule is the first match for
    preempted: tuple[tuple[str, int], ...]  # (file, index of the earlier rule that takes it)
    differing: tuple[tuple[str, int], ...] = ()  # preempted files this rule would treat
    # differently (other recipients, crypt rule or MAC mode) from the rule that takes them

    @property
    def dead(self) -> bool:
        """It governs no secret file, and an earlier rule takes a file it matches with
        another outcome: the rule says something the repository never gets."""
        return not self.governs and bool(self.differing)

    def warning(self) -> str | None:
        if not self.dead:
            return None
        path, index = self.differing[0]
        more = len(self.differing) - 1
        others = f" (and {more} more)" if more else ""
        return (f"{self.rule.label} ({self.rule.path}) never applies in this repository:"
                f" the secret files it matches are taken first by earlier rules with other"
                f" recipients or crypt rules, e.g. {path} by rules[{index}]{others}; move it up"
                f" (`sopskit rules move {self.rule.index} --before {index}`) or remove it")


@dataclass(frozen=True)
class Coverage:
    """Every rule's use, and the secret files no rule matches, grouped by directory."""

    uses: tuple[RuleUse, ...]
    uncovered: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def warnings(self) -> list[str]:
        return [w for u in self.uses if (w := u.warning()) is not None]

    def uncovered_lines(self) -> list[str]:
        """One line per directory holding secret files that no rule covers."""
        return [f"{d}/: {len(files)} secret file(s) match no rule (e.g. {files[0]}); add one:"
                f" sopskit rules add {shlex.quote(d + '/**')} --clusters NAME[,NAME]"
                for d, files in self.uncovered.items()]


def secret_files(repo: Path, registry: Registry) -> list[str]:
    """Repository-relative paths of sops files (by content, a damaged one included) and of
    files promised to be encrypted, from one walk of the repository."""
    found = []
    for path in repo_files(repo):
        rel = path.relative_to(repo).as_posix()
        if registry.promises_encrypted(rel) or _holds_sops(path):
            found.append(rel)
    return sorted(found)


def _holds_sops(path: Path) -> bool:
    try:
        if not path.is_file() or path.stat().st_size > MAX_SCAN_BYTES:
            return False
        data = path.read_bytes()
    except OSError:
        return False
    return looks_like_sops(data, detect_format(path))


def coverage(registry: Registry, files: Iterable[str]) -> Coverage:
    """Match every file against the ordered rules (first match wins, as sops does)."""
    governs: dict[int, list[str]] = defaultdict(list)
    preempted: dict[int, list[tuple[str, int]]] = defaultdict(list)
    uncovered: dict[str, list[str]] = defaultdict(list)
    for rel in files:
        matching = [r.index for r in registry.rules if r.glob.match(rel)]
        if not matching:
            uncovered[posixpath.dirname(rel) or "."].append(rel)
            continue
        first, *later = matching
        governs[first].append(rel)
        for index in later:
            preempted[index].append((rel, first))
    uses = tuple(RuleUse(r, tuple(governs[r.index]), tuple(preempted[r.index]),
                         tuple(p for p in preempted[r.index] if _differs(registry, r, p)))
                 for r in registry.rules)
    return Coverage(uses, {d: tuple(f) for d, f in sorted(uncovered.items())})


def _outcome(registry: Registry, rule: Rule, rel: str) -> tuple[object, ...]:
    fmt = sops_format(rel)
    keys = frozenset(k.name for k in recipients_of_rule(registry, rule, today=None))
    return keys, registry.crypt_rule_for(rule, fmt), registry.mac_only_encrypted(rule)


def _differs(registry: Registry, rule: Rule, taken: tuple[str, int]) -> bool:
    rel, first = taken
    return _outcome(registry, rule, rel) != _outcome(registry, registry.rules[first], rel)


def repository_coverage(repo: Path, registry: Registry) -> Coverage:
    return coverage(registry, secret_files(repo, registry))


_GLOB_CHARS = frozenset("*?[{")


@dataclass(frozen=True)
class Targets:
    """What `recipients PATH...` reports on: files, and arguments that named none."""

    files: tuple[str, ...]
    empty: tuple[str, ...]  # a directory without secret files, a glob matching nothing


def expand_targets(repo: Path, registry: Registry, args: Iterable[str],
                   relpath: Callable[[str], str]) -> Targets:
    """Each argument as files: a file as itself; a directory as the secret files under it;
    a glob (registry syntax, repository-relative) as every repository file it matches.
    `relpath` turns an argument that names a path into its repository-relative form."""
    files: list[str] = []
    empty: list[str] = []
    secrets: list[str] | None = None
    for arg in args:
        path = Path(arg)
        kind = _kind(path)
        if kind == "dir":
            secrets = secrets if secrets is not None else secret_files(repo, registry)
            base = relpath(arg)
            prefix = "" if base in ("", ".") else base.rstrip("/") + "/"
            found = [f for f in secrets if f.startswith(prefix)]
        elif kind == "none" and _GLOB_CHARS & set(arg):
            found = _glob_files(repo, arg)
        else:
            found = [relpath(arg)]
        files.extend(found)
        if not found:
            empty.append(arg)
    return Targets(tuple(dict.fromkeys(files)), tuple(empty))


def _kind(path: Path) -> str:
    """"dir", "file" or "none"; a name the system cannot even look up (too long) is none."""
    try:
        return "dir" if path.is_dir() else "file" if path.exists() else "none"
    except OSError:
        return "none"


def _glob_files(repo: Path, pattern: str) -> list[str]:
    try:
        glob = Glob.compile(pattern)
    except GlobError as exc:
        raise UsageError(f"{shown(pattern)} is not a valid glob: {exc}") from None
    root = repo.resolve()
    out = []
    for path in repo_files(repo):
        rel = path.relative_to(repo).as_posix() if path.is_relative_to(repo) else \
            path.resolve().relative_to(root).as_posix()
        if glob.match(rel):
            out.append(rel)
    return sorted(out)
