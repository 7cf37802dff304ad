"""A sops file against the creation rule sops would pick for it.

Most repositories have a `.sops.yaml` and no key registry. For each sops file the config is
the nearest `.sops.yaml` in its directory or above (where sops finds it when run from there,
`config.LookupConfigFile`), and the rule is the first whose `path_regex` matches the path
relative to that config's directory (`parseCreationRuleForFile`, sops-format.md 3.2); the
same `registry.sops_config` model answers `rekey`. The checks:
- recipients missing or extra (the union over key groups);
- key groups and Shamir threshold (`updatekeys` diffs both, 3.5);
- crypt rule and `mac_only_encrypted`: sops keeps the file's stored crypt rule on every
  `edit`/`set` (#1788, #770) and `updatekeys` ignores a changed one (#938), so a rule changed
  in `.sops.yaml` never reaches existing files by itself. Binary files ignore both (1.4).
With a registry, the recipient checks stay in `recipients.py` (they know key names and
statuses) and the structural checks here run against the registry's rule (`rule_of`).
A Flux decryption Secret (what `sopskit flux secret` writes) is encrypted to the admins
whatever rule covers its path: it is never `no-rule`, and its recipients are not compared.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sopskit.audit.finding import Finding
from sopskit.audit.fingerprint import subject_fingerprint
from sopskit.audit.rules import rule
from sopskit.errors import ConfigError, InputError
from sopskit.recipient import Recipient
from sopskit.registry.sops_config import CONFIG_NAME, CreationRule, SopsConfig, nearest_config
from sopskit.sopsfile.document import detect_format
from sopskit.sopsfile.model import DEFAULT_CRYPT_RULE, Metadata


def _finding(rule_id: str, path: str, subject: str, message: str) -> Finding:
    r = rule(rule_id)
    return Finding(path, None, r.id, r.category, r.severity, r.message(message),
                   subject_fingerprint(r.id, path, subject))


def same_recipient(a: Recipient, b: Recipient) -> bool:
    """sops stores a PGP key as typed in the config (sops-format.md 1.6): a 16-hex long
    key id stands for the fingerprint that ends with it."""
    if a == b:
        return True
    return (a.type == b.type == "pgp" and min(len(a.id), len(b.id)) >= 16
            and (a.id.endswith(b.id) or b.id.endswith(a.id)))


def _minus(a: frozenset[Recipient], b: frozenset[Recipient]) -> list[Recipient]:
    return sorted(r for r in a if not any(same_recipient(r, x) for x in b))


def _same_set(a: frozenset[Recipient], b: frozenset[Recipient]) -> bool:
    return not _minus(a, b) and not _minus(b, a)


def recipients(path: str, metadata: Metadata, wanted: CreationRule) -> Iterator[Finding]:
    """recipient-missing / recipient-unauthorised against a `.sops.yaml` rule."""
    actual = metadata.recipients
    for r in _minus(wanted.recipients, actual):
        yield _finding("recipient-missing", path, str(r), f"{r} is required by {wanted.source}")
    for r in _minus(actual, wanted.recipients):
        yield _finding("recipient-unauthorised", path, str(r),
                       f"{r} is not a recipient of {wanted.source}")


def structure(path: str, metadata: Metadata, wanted: CreationRule) -> Iterator[Finding]:
    """Key groups, threshold, crypt rule and mac_only_encrypted against `wanted`."""
    groups = _group_drift(metadata, wanted)
    if groups:
        yield _finding("key-groups-drift", path, "; ".join(groups),
                       f"{'; '.join(groups)} ({wanted.source}); run `sops updatekeys`")
    if detect_format(path) == "binary":
        return  # the binary store ignores crypt rules and mac_only_encrypted
    have = metadata.effective_crypt_rule
    want = wanted.crypt_rule or DEFAULT_CRYPT_RULE
    if have != want:
        yield _finding("crypt-rule-drift", path, f"{have}->{want}",
                       f"the file has {have.kind}: {have.value!r}, {wanted.source} wants "
                       f"{want.kind}: {want.value!r}; sops edit/set/updatekeys keep the "
                       "file's own rule: re-encrypt it (decrypt, then encrypt)")
    if metadata.mac_only_encrypted != wanted.mac_only_encrypted:
        yield _finding("mac-only-encrypted-drift", path, str(wanted.mac_only_encrypted),
                       f"the file has mac_only_encrypted: "
                       f"{str(metadata.mac_only_encrypted).lower()}, {wanted.source} wants "
                       f"{str(wanted.mac_only_encrypted).lower()}; re-encrypt it")


def _group_drift(metadata: Metadata, wanted: CreationRule) -> list[str]:
    have = [g.recipients() for g in metadata.key_groups]
    want = list(wanted.key_groups)
    out: list[str] = []
    if len(have) != len(want):
        out.append(f"{len(have)} key group(s), the rule wants {len(want)}")
    elif len(want) > 1:
        out += [f"key group {i} differs" for i, (h, w) in enumerate(zip(have, want, strict=True))
                if not _same_set(h, w)]
    if (len(have) > 1 or len(want) > 1) and metadata.threshold != wanted.threshold:
        out.append(f"threshold {metadata.threshold}, the rule wants {wanted.threshold}")
    return out


@dataclass
class ConfigChecks:
    """The `.sops.yaml` checks of one audit run (each config parsed once)."""

    repo: Path
    configs: dict[Path, SopsConfig | None] = field(default_factory=dict)
    problems: list[Finding] = field(default_factory=list)

    def config(self, path: Path) -> SopsConfig | None:
        """The parsed config (None when sops cannot read it at all); a path_regex sops
        cannot compile is reported here too, whether a file reaches its rule yet or not."""
        if path not in self.configs:
            try:
                config = SopsConfig.load(path)
            except (ConfigError, InputError) as exc:
                self.configs[path] = None
                self._invalid(path, exc.message)
            else:
                self.configs[path] = config
                for error in config.regex_errors():
                    self._invalid(path, error.message)
        return self.configs[path]

    def _invalid(self, config: Path, message: str) -> None:
        rel = config.relative_to(self.repo).as_posix()
        finding = _finding("sops-config-invalid", rel, message, message)
        if finding not in self.problems:
            self.problems.append(finding)

    def check(self, path: str, metadata: Metadata, *, flux_secret: bool) -> Iterator[Finding]:
        """Every finding of one sops file against the rule sops would pick."""
        if flux_secret:
            return
        found = nearest_config(self.repo, path)
        if found is None:
            yield _finding("no-rule", path, "no-config", f"no {CONFIG_NAME} in its "
                           "directory or above: sops cannot re-create or update it")
            return
        config = self.config(found)
        if config is None:
            return  # reported once as sops-config-invalid
        try:
            entry = config.match(self.repo / path)
        except ConfigError as exc:
            self._invalid(found, exc.message)
            return
        where = found.relative_to(self.repo).as_posix()
        if entry is None:
            yield _finding("no-rule", path, where, f"none of {where}'s path_regex matches"
                           " it, so sops cannot update or rotate it ('no matching creation"
                           " rules found'); add a creation rule for it or move the file")
            return
        if entry.rule is None:
            yield _finding("no-rule", path, f"{where}#{entry.index}", f"the rule sops picks "
                           f"in {where} cannot be used: {entry.problem}")
            return
        wanted = CreationRule(entry.rule.key_groups, entry.rule.crypt_rule,
                              entry.rule.mac_only_encrypted, entry.rule.shamir_threshold,
                              source=f"{where} creation_rules[{entry.index}]")
        yield from recipients(path, metadata, wanted)
        yield from structure(path, metadata, wanted)
