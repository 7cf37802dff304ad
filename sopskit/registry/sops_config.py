"""The `.sops.yaml` generated from the registry, so that sops alone obeys the same policy.

One creation rule per (registry rule, file kind), in registry order: sops supports one crypt
rule per creation rule, and the default `encrypted_regex` must only reach YAML and JSON
files (a Kubernetes regex on a dotenv file would leave every value in plaintext). So a rule
that inherits a default crypt rule becomes two creation rules: first its YAML/JSON files
(the glob restricted to `.yaml`/`.yml`/`.json` names, as a plain regex) with the crypt rule,
then every other file it matches with none (sops then encrypts every value). Path regexes
are anchored (`^...$`) and relative to the repository root, where `.sops.yaml` lives
(sops strips the config's directory from the file path, PR #827). Recipients are sorted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sopskit.recipient import Recipient
from sopskit.registry import globauto
from sopskit.registry.glob import Glob, anchored, render_seq
from sopskit.registry.model import Registry, Rule
from sopskit.registry.resolve import groups_of_rule, rule_clusters, today_utc
from sopskit.repo import find_repo_root
from sopskit.sopsfile.model import CryptRule

STRUCTURED_SUFFIXES = (".yaml", ".yml", ".json")
# sops matches a file outside the config's directory by its absolute path (PR #827), and
# also when run from the repository for /tmp/x or stdin. Those files are not governed by
# the registry: a last key-less rule for absolute paths lets `sops -e --age X /tmp/f` work
# from the repository root, while an in-repository path that no rule matches still gets
# sops' "no matching creation rules found", and a key-less match still refuses to encrypt
# (or updatekeys: "empty key group provided") unless keys are named on the command line.
OUTSIDE_RULE = (
    "  # files outside the repository (absolute paths, stdin): not governed by the registry;",
    "  # sops encrypts them only to keys named on its command line (--age/--pgp)",
    "  - path_regex: '^/'",
)
_ALL_STRUCTURED = [Glob.compile(f"**/*{s}").tokens for s in STRUCTURED_SUFFIXES]


@dataclass(frozen=True)
class Entry:
    """One creation rule of the generated file."""

    comment: str
    path_regex: str
    groups: tuple[frozenset[Recipient], ...]
    crypt_rule: CryptRule | None
    mac_only_encrypted: bool
    use_key_groups: bool
    shamir_threshold: int | None


def structured_regex(glob: Glob) -> str | None:
    """The anchored regex of the glob's paths that end in .yaml/.yml/.json (None: none)."""
    by_body: dict[str, list[str]] = {}
    for suffix in STRUCTURED_SUFFIXES:
        for seq in globauto.with_suffix(glob.tokens, suffix):
            by_body.setdefault(render_seq(seq), []).append(suffix)
    if not by_body:
        return None
    parts = [body + _suffix_regex(suffixes) for body, suffixes in sorted(by_body.items())]
    return anchored(parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")")


def _suffix_regex(suffixes: list[str]) -> str:
    names = [s[1:] for s in suffixes]
    if names == ["yaml", "yml", "json"]:
        return r"\.(?:ya?ml|json)"
    if names == ["yaml", "yml"]:
        return r"\.ya?ml"
    return r"\." + (names[0] if len(names) == 1 else "(?:" + "|".join(names) + ")")


def only_structured(glob: Glob) -> bool:
    """True when every path the glob matches is a YAML or JSON file name (exact)."""
    try:
        return globauto.covered(glob.tokens, _ALL_STRUCTURED)
    except globauto.Undecided:
        return False


def entries(registry: Registry, *, today: date | None = None) -> list[Entry]:
    """The creation rules for `registry`, in order."""
    day = today or today_utc()
    out: list[Entry] = []
    for rule in registry.rules:
        out.extend(_rule_entries(registry, rule, day))
    return out


def _rule_entries(registry: Registry, rule: Rule, day: date) -> list[Entry]:
    structured = registry.crypt_rule_for(rule, "yaml")
    other = registry.crypt_rule_for(rule, "dotenv")
    head = f"{rule.label} {rule.path} -> {', '.join(rule_clusters(registry, rule.clusters))}"
    if structured == other:
        return [_entry(registry, rule, day, head, rule.glob.regex, crypt=other)]
    out = []
    regex = structured_regex(rule.glob)
    if regex is not None:
        out.append(_entry(registry, rule, day, f"{head} (YAML and JSON files)", regex,
                          crypt=structured))
    if not only_structured(rule.glob):
        out.append(_entry(registry, rule, day, f"{head} (other files: every value encrypted)",
                          rule.glob.regex, crypt=other))
    return out


def _entry(registry: Registry, rule: Rule, day: date, comment: str, regex: str, *,
           crypt: CryptRule | None) -> Entry:
    groups = groups_of_rule(registry, rule, today=day)
    return Entry(comment, regex, groups, crypt, registry.mac_only_encrypted(rule),
                 bool(rule.key_groups), rule.shamir_threshold)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _group_lines(group: frozenset[Recipient], indent: str, first: str) -> list[str]:
    lines: list[str] = []
    for kind in ("age", "pgp"):
        ids = sorted(r.id for r in group if r.type == kind)
        if ids:
            lines.append(f"{first if not lines else indent}{kind}:")
            lines.extend(f"{indent}  - {_quote(i) if kind == 'age' else i}" for i in ids)
    return lines


def _entry_lines(entry: Entry) -> list[str]:
    lines = [f"  # {' '.join(entry.comment.split())}",
             f"  - path_regex: {_quote(entry.path_regex)}"]
    if entry.crypt_rule is not None:
        lines.append(f"    {entry.crypt_rule.kind}: {_quote(entry.crypt_rule.value)}")
    if entry.mac_only_encrypted:
        lines.append("    mac_only_encrypted: true")
    if entry.use_key_groups:
        lines.append("    key_groups:")
        for group in entry.groups:
            lines.extend(_group_lines(group, "        ", "      - ") or ["      - {}"])
        if entry.shamir_threshold:
            lines.append(f"    shamir_threshold: {entry.shamir_threshold}")
    elif entry.groups[0]:
        lines.extend(_group_lines(entry.groups[0], "    ", "    "))
    else:
        lines.append("    # no active key serves this rule: sops refuses to encrypt here")
    return lines


def source_name(registry: Registry) -> str:
    """The registry path relative to its repository root (stable across checkouts)."""
    path = registry.path.resolve()
    root = find_repo_root(path.parent)
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def render(registry: Registry, *, today: date | None = None, source: str | None = None) -> str:
    """The text of the generated `.sops.yaml` (deterministic for a given date)."""
    name = source or source_name(registry)
    lines = [f"# Generated by sopskit from {name}: do not edit by hand.",
             "# Edit the registry, then run `sopskit config render`"
             " (CI: `sopskit config render --check`).",
             "creation_rules:"]
    for entry in entries(registry, today=today):
        lines.extend(_entry_lines(entry))
    lines.extend(OUTSIDE_RULE)
    return "\n".join(lines) + "\n"


def write_path(repo: Path) -> Path:
    """Where the generated file goes: the repository root (path regexes are relative to it)."""
    return repo / ".sops.yaml"
