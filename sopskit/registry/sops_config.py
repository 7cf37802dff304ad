"""`.sops.yaml`: the one model of sops' creation rules, read and written here only.

Reading (`SopsConfig`, `rule_for`): matching mirrors `config.parseCreationRuleForFile`
(sops-format.md 3.2): rules in file order, first match wins, an empty `path_regex` matches
everything, the regex is an unanchored search (Go RE2 `MatchString`) over the path relative to
the config file's directory. `age`/`pgp` accept a comma-separated string or a list;
`key_groups` replaces the top-level keys of its rule. The same `CreationRule` answers rekey
("what should this file look like"), encryption and the audit ("does it look like that").

Writing: the one-rule config handed to sops (`render_rule`, `TempConfig`), and the file
generated from the registry (`render`): one creation rule per (registry rule, file kind), in
registry order. sops supports one crypt rule per creation rule, and the default
`encrypted_regex` must only reach YAML and JSON files (a Kubernetes regex on a dotenv file would
leave every value in plaintext). So a rule that inherits a default crypt rule becomes two
creation rules: first its YAML/JSON files (the glob restricted to `.yaml`/`.yml`/`.json`
names, as a plain regex) with the crypt rule, then every other file it matches with none (sops
then encrypts every value). Path regexes are anchored (`^...$`) and relative to the
repository root, where `.sops.yaml` lives (sops strips the config's directory from the file
path, PR #827). Recipients are sorted.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sopskit import regex as re2go
from sopskit import yamlio
from sopskit.errors import ConfigError, InputError, UsageError
from sopskit.recipient import Recipient
from sopskit.registry import globauto
from sopskit.registry.glob import Glob, anchored, render_seq
from sopskit.registry.model import Registry, Rule
from sopskit.registry.resolve import Resolution, groups_of_rule, rule_clusters, today_utc
from sopskit.repo import find_repo_root
from sopskit.sopsfile.model import CRYPT_RULE_KINDS, CryptRule

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


# .sops.yaml field of each service key type (config.go: creationRule / keyGroup).
_SERVICE_FIELDS = {"kms": "kms", "gcp_kms": "gcp_kms", "azure_kv": "azure_keyvault",
                   "hc_vault": "hc_vault_transit_uri", "hckms": "hckms"}


def _group_lines(group: frozenset[Recipient], indent: str, first: str, *,
                 in_key_groups: bool = False) -> list[str]:
    lines: list[str] = []
    for kind in ("age", "pgp", *_SERVICE_FIELDS):
        ids = sorted(r.id for r in group if r.type == kind)
        if not ids:
            continue
        field = _SERVICE_FIELDS.get(kind, kind)
        if in_key_groups and kind == "hc_vault":
            field = "hc_vault"  # keyGroup spells it so, and takes plain URIs
        lines.append(f"{first if not lines else indent}{field}:")
        for i in ids:
            item = _service_item(kind, i) if in_key_groups else None
            lines.append(f"{indent}  - {item or (_quote(i) if kind != 'pgp' else i)}")
    return lines


def _service_item(kind: str, key_id: str) -> str | None:
    """A service key inside `key_groups`, where sops wants a mapping (config.go: kmsKey,
    gcpKmsKey, azureKVKey, hckmsKey); None where a plain string is right."""
    if kind == "kms":
        arn, _, role = key_id.partition("+")
        return "{arn: " + _quote(arn) + (", role: " + _quote(role) if role else "") + "}"
    if kind == "gcp_kms":
        return "{resource_id: " + _quote(key_id) + "}"
    if kind == "azure_kv":
        url, _, rest = key_id.partition("/keys/")
        name, _, version = rest.partition("/")
        return ("{vaultUrl: " + _quote(url) + ", key: " + _quote(name) + ", version: "
                + _quote(version) + "}")
    if kind == "hckms":
        return "{key_id: " + _quote(key_id) + "}"
    return None


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
            lines.extend(_group_lines(group, "        ", "      - ", in_key_groups=True)
                         or ["      - {}"])
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


# ---- reading: the creation rules sops would apply -------------------------------------------

CONFIG_NAME = ".sops.yaml"
_OTHER_KEYS = ("kms", "gcp_kms", "azure_keyvault", "hc_vault_transit_uri", "hckms")


@dataclass(frozen=True)
class CreationRule:
    """Who a file is encrypted to and which values are encrypted: one sops creation rule."""

    key_groups: tuple[frozenset[Recipient], ...]
    crypt_rule: CryptRule | None = None
    mac_only_encrypted: bool = False
    shamir_threshold: int | None = None
    source: str = ""  # where the rule came from, for messages
    # Armored public key files of every PGP recipient, when known (the registry's
    # `public_key`): encryption then needs nothing from the user's keyring.
    pgp_key_files: tuple[Path, ...] = ()

    @property
    def recipients(self) -> frozenset[Recipient]:
        out: set[Recipient] = set()
        for group in self.key_groups:
            out |= group
        return frozenset(out)

    @property
    def threshold(self) -> int:
        """Shares sops requires (`shamir_threshold`, else every group; 1 for one group)."""
        if len(self.key_groups) <= 1:
            return 1
        return min(self.shamir_threshold or len(self.key_groups), len(self.key_groups))

    @classmethod
    def single(cls, recipients: Iterable[Recipient], **kwargs: Any) -> CreationRule:
        return cls(key_groups=(frozenset(recipients),), **kwargs)


@dataclass(frozen=True)
class ConfigRule:
    """One entry of `creation_rules`, as written: its `CreationRule`, or why sops cannot
    use it (`problem`, e.g. "creation rule 2 names no keys")."""

    index: int
    path_regex: str
    rule: CreationRule | None
    problem: str | None = None


@dataclass(frozen=True)
class SopsConfig:
    """A parsed `.sops.yaml`: its creation rules in file order."""

    path: Path
    rules: tuple[ConfigRule, ...]

    @classmethod
    def load(cls, path: Path) -> SopsConfig:
        """Parse `path`; InputError/ConfigError when the file as a whole is unusable."""
        raw = _load_rules(path)
        return cls(path, tuple(_config_rule(r, path, i) for i, r in enumerate(raw)))

    def relative(self, target: Path) -> str:
        """The path sops matches: relative to the config's directory when under it, else
        absolute (sops strips `abs(dir(config)) + sep`, PR #827)."""
        base = self.path.resolve().parent
        absolute = target.resolve()
        try:
            return absolute.relative_to(base).as_posix()
        except ValueError:
            return str(absolute)

    def regex_errors(self) -> list[ConfigError]:
        """The creation rules whose `path_regex` sops cannot compile: sops fails on each
        file that reaches one, the error `match` raises for it."""
        out = []
        for entry in self.rules:
            try:
                _search(entry.path_regex, "", self.path, entry.index)
            except ConfigError as exc:
                out.append(exc)
        return out

    def match(self, target: Path) -> ConfigRule | None:
        """The creation rule sops picks for `target`: the first whose `path_regex` matches
        (ConfigError for an invalid regex met on the way, as sops fails there too)."""
        rel = self.relative(target)
        for entry in self.rules:
            if not entry.path_regex or _search(entry.path_regex, rel, self.path, entry.index):
                return entry
        return None


def rule_of(resolution: Resolution) -> CreationRule:
    """The creation rule the registry wants for a resolved path (what `render` writes
    for it): the same model whether the wanted state comes from the registry or a
    hand-written `.sops.yaml`."""
    return CreationRule(resolution.key_groups, resolution.crypt_rule,
                        resolution.mac_only_encrypted, resolution.shamir_threshold,
                        source=f"registry rules[{resolution.rule_index}] {resolution.rule.path}")


def find_config(repo: Path) -> Path | None:
    """The `.sops.yaml` at the repository root, if any (never searched from the cwd)."""
    path = repo / CONFIG_NAME
    return path if path.is_file() else None


def nearest_config(repo: Path, relpath: str) -> Path | None:
    """The `.sops.yaml` sops finds when run from the file's directory: the nearest one in
    that directory or above it, up to the repository root (config.LookupConfigFile)."""
    parts = relpath.split("/")[:-1]
    for depth in range(len(parts), -1, -1):
        candidate = repo.joinpath(*parts[:depth], CONFIG_NAME)
        if candidate.is_file():
            return candidate
    return None


def rule_for(config: Path, target: Path) -> CreationRule:
    """The first creation rule of `config` matching `target` (sops' own choice)."""
    model = SopsConfig.load(config)
    entry = model.match(target)
    if entry is None:
        raise ConfigError(f"no creation rule in {config} matches {model.relative(target)}",
                          path=target)
    if entry.rule is None:
        raise ConfigError(entry.problem or f"creation rule {entry.index} is unusable",
                          path=config)
    return entry.rule


def _load_rules(config: Path) -> list[dict[str, Any]]:
    try:
        text = config.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.__class__.__name__
        raise InputError(f"cannot read sops config ({reason})", path=config) from None
    data = yamlio.load(text, path=str(config)) or {}
    rules = data.get("creation_rules") if isinstance(data, dict) else None
    if not isinstance(rules, list) or not rules:
        raise ConfigError("sops config has no creation_rules", path=config)
    if not all(isinstance(r, dict) for r in rules):
        raise ConfigError("every creation rule must be a mapping", path=config)
    for index, rule in enumerate(rules):
        _check_group_lists(rule, config, index)
    return rules


def _check_group_lists(rule: dict[str, Any], config: Path, index: int) -> None:
    """Inside `key_groups`, sops reads `age` and `pgp` as YAML lists only: a plain string
    there makes the whole file unreadable to sops ("cannot unmarshal !!str into []string"),
    not just that rule."""
    groups = rule.get("key_groups")
    for number, group in enumerate(groups if isinstance(groups, list) else []):
        for kind in ("age", "pgp"):
            value = group.get(kind) if isinstance(group, dict) else None
            if value is not None and not isinstance(value, list):
                raise ConfigError(f"creation rule {index}: key_groups[{number}].{kind} must be "
                                  "a list (sops cannot read this config)", path=config)


def _config_rule(raw: dict[str, Any], config: Path, index: int) -> ConfigRule:
    regex = str(raw.get("path_regex") or "")
    try:
        return ConfigRule(index, regex, _to_rule(raw, config, index))
    except ConfigError as exc:
        return ConfigRule(index, regex, None, exc.message)


def _search(regex: str, rel: str, config: Path, index: int) -> bool:
    """sops compiles path_regex with Go's regexp and fails on an invalid one (config.go)."""
    try:
        return re2go.compile(regex).search(rel)
    except re2go.InvalidRegex as exc:
        raise ConfigError(f"creation rule {index}: invalid path_regex ({re2go.short(exc)})",
                          path=config) from None


def _to_rule(raw: dict[str, Any], config: Path, index: int) -> CreationRule:
    where = f"{config} creation rule {index}"
    groups_raw = raw.get("key_groups")
    if groups_raw:
        if not isinstance(groups_raw, list):
            raise ConfigError(f"creation rule {index}: key_groups must be a list", path=config)
        groups = tuple(_group(g, split_age=True) for g in groups_raw)
    else:
        groups = (_group(raw, split_age=True),)
    if not any(groups):
        raise ConfigError(f"creation rule {index} names no keys", path=config)
    if not all(groups):  # sops: "Could not generate data key: [empty key group provided]"
        raise ConfigError(f"creation rule {index} has an empty key group (sops refuses it)",
                          path=config)
    threshold = _threshold(raw, config, index)
    if threshold and len(groups) > 1 and threshold > len(groups):
        # sops: "could not split data key into parts for Shamir: parts cannot be less than
        # threshold"
        raise ConfigError(f"creation rule {index}: shamir_threshold {threshold} is more than "
                          f"its {len(groups)} key groups (sops refuses it)", path=config)
    return CreationRule(groups, _crypt_rule(raw, config, index),
                        _mac_only(raw, config, index), threshold, source=where)


def _threshold(raw: dict[str, Any], config: Path, index: int) -> int | None:
    value = raw.get("shamir_threshold")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"creation rule {index}: shamir_threshold must be a whole number",
                          path=config)
    return value or None


def _mac_only(raw: dict[str, Any], config: Path, index: int) -> bool:
    value = raw.get("mac_only_encrypted", False)
    if not isinstance(value, bool):
        raise ConfigError(f"creation rule {index}: mac_only_encrypted must be true or false",
                          path=config)
    return value


def _group(raw: Any, *, split_age: bool) -> frozenset[Recipient]:
    if not isinstance(raw, dict):
        return frozenset()
    out = {Recipient.age(a) for a in _items(raw.get("age"), split=split_age)}
    out |= {Recipient.pgp(p) for p in _items(raw.get("pgp"), split=True)}
    for kind in (*_OTHER_KEYS, "hc_vault"):  # key_groups spell Vault `hc_vault`
        for item in _items(raw.get(kind), split=True):
            name = "azure_kv" if kind == "azure_keyvault" else kind
            name = "hc_vault" if kind == "hc_vault_transit_uri" else name
            out.add(Recipient(name, item))  # type: ignore[arg-type]
    return frozenset(out)


def _entry_id(raw: dict[str, Any]) -> str:
    """A key_groups mapping entry (config.go: kmsKey, gcpKmsKey, azureKVKey, hckmsKey) as
    the id sops writes in a file's metadata (the master key's ToString)."""
    if raw.get("arn"):
        role = raw.get("role")
        return f"{raw['arn']}+{role}" if role else str(raw["arn"])
    if raw.get("vaultUrl"):
        return f"{raw['vaultUrl']}/keys/{raw.get('key', '')}/{raw.get('version', '')}"
    return str(raw.get("resource_id") or raw.get("key_id") or "")


def _items(value: Any, *, split: bool) -> list[str]:
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    out: list[str] = []
    for raw in values:
        v = raw
        if isinstance(raw, dict):  # kms/gcp/azure/hckms entries inside key_groups
            out.extend([_entry_id(raw)] if _entry_id(raw) else [])
            continue
        parts = str(v).split(",") if split else [str(v)]
        out.extend(p.strip() for p in parts if p.strip())
    return out


def _crypt_rule(raw: dict[str, Any], config: Path, index: int) -> CryptRule | None:
    found = [CryptRule(k, str(raw[k])) for k in CRYPT_RULE_KINDS if raw.get(k) not in (None, "")]
    if len(found) > 1:
        kinds = ", ".join(r.kind for r in found)
        raise ConfigError(f"creation rule {index} sets more than one crypt rule ({kinds})",
                          path=config)
    for rule in found:
        _check_crypt_value(rule, raw[rule.kind], config, index)
    return found[0] if found else None


def _check_crypt_value(rule: CryptRule, value: Any, config: Path, index: int) -> None:
    """A crypt rule sops would silently not apply is an error here: sops ignores an
    invalid regex (`Tree.shouldBeEncrypted` drops the error), so an invalid
    `encrypted_regex` leaves every value in plaintext (sops-format.md 1.4)."""
    if isinstance(value, (dict, list)):
        raise ConfigError(f"creation rule {index}: {rule.kind} must be a string", path=config)
    if rule.kind.endswith("regex"):
        try:
            re2go.compile(rule.value)
        except re2go.InvalidRegex as exc:
            raise ConfigError(f"creation rule {index}: {rule.kind} is not a valid RE2 regular "
                              f"expression ({re2go.short(exc)}; sops would ignore it)",
                              path=config) from None


# ---- writing: the one-rule config handed to the sops binary -----------------------------------

def render_rule(rule: CreationRule) -> str:
    """A `.sops.yaml` with one catch-all creation rule holding exactly `rule` (public keys)."""
    entry: dict[str, Any] = {}
    if len(rule.key_groups) == 1:
        entry.update(_group_entry(rule.key_groups[0]))
    else:
        entry["key_groups"] = [_group_entry(g) for g in rule.key_groups]
        if rule.shamir_threshold:
            entry["shamir_threshold"] = rule.shamir_threshold
    if rule.crypt_rule is not None:
        entry[rule.crypt_rule.kind] = rule.crypt_rule.value
    if rule.mac_only_encrypted:
        entry["mac_only_encrypted"] = True
    return yamlio.dump({"creation_rules": [entry]})


def _group_entry(group: frozenset[Recipient]) -> dict[str, list[str]]:
    unsupported = sorted(str(r) for r in group if r.type not in ("age", "pgp"))
    if unsupported:
        # sops needs the cloud service (and its credentials, which sopskit never passes to
        # sops) to wrap a data key for such a key, even one that is already a recipient
        raise UsageError(f"sopskit can only encrypt to age and PGP keys, not {unsupported[0]}: "
                         "a cloud KMS or Vault key is used by sops alone, with that service's "
                         "credentials; encrypt or re-key this file with sops itself")
    entry: dict[str, list[str]] = {}
    ages = sorted(r.id for r in group if r.type == "age")
    pgps = sorted(r.id for r in group if r.type == "pgp")
    if ages:
        entry["age"] = ages
    if pgps:
        entry["pgp"] = pgps
    return entry


class TempConfig:
    """A private directory holding a rendered one-rule `.sops.yaml`; removed on exit."""

    def __init__(self, rule: CreationRule) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="sopskit-cfg-")
        self.path = Path(self._dir.name) / CONFIG_NAME
        self.path.write_text(render_rule(rule), encoding="utf-8")

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc: object) -> None:
        self._dir.cleanup()
