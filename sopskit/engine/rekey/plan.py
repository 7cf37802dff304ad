"""The rekey plan: for each sops file, who can read it now, who should, and what to do.

Action kinds (docs/runbooks/key-rotation.md explains when each is right):
- `nothing`: recipients, key groups and crypt rule already as wanted;
- `updatekeys`: recipients only added (or key groups regrouped): the same data key is
  re-wrapped (`sops updatekeys`, sops-format.md 3.5);
- `updatekeys+rotate`: a recipient removed (retired, revoked, or no longer listed): whoever
  held it may have kept the data key, so the key must change (sops issues #365, #484);
- `rotate`: a new data key only (`--rotate-data-key always`, or a data key too old);
- `unmanaged`: no rule covers the path (e.g. a Flux decryption Secret kept for admins):
  left alone, listed; an `error` instead when a retired or revoked key can still read it;
- `re-encrypt`: the file's crypt rule or `mac_only_encrypted` differs from the wanted one,
  which neither `updatekeys` nor `rotate` changes (they keep the file's rule, #938, #1153):
  decrypted and encrypted again in memory. When that would leave in plaintext a value that
  is encrypted today, the plan marks the file and only `--allow-less-encryption` applies it.

`--rotate-data-key auto` rotates when a recipient goes away, and when the caller supplies
data-key ages (sops records none; the audit derives them from git history) for a key older
than the limit.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sopskit.engine.rekey.desired import Desired
from sopskit.engine.rekey.scope import Found, find_files
from sopskit.errors import ConfigError, SopskitError
from sopskit.recipient import Recipient
from sopskit.registry.resolve import NoMatchingRule
from sopskit.sops.config import CreationRule
from sopskit.sopsfile.document import SopsDocument, parse
from sopskit.sopsfile.encvalue import looks_encrypted
from sopskit.sopsfile.kinds import is_flux_decryption_secret
from sopskit.sopsfile.model import DEFAULT_CRYPT_RULE, Format, Metadata

if TYPE_CHECKING:
    from sopskit.history.datakey import KeyAge

Action = Literal["nothing", "updatekeys", "updatekeys+rotate", "rotate", "re-encrypt",
                 "unmanaged", "error"]
ACTIONS: tuple[Action, ...] = ("nothing", "updatekeys", "updatekeys+rotate", "rotate",
                               "re-encrypt", "unmanaged", "error")
RotateMode = Literal["auto", "always", "never"]
DEFAULT_MAX_AGE_DAYS = 365  # the audit's --max-data-key-age default


# A file's data-key age is history.datakey.KeyAge (the audit reads the same history);
# the caller supplies the ages, so rekey reads git history only when asked.
AgeOf = Callable[[list[str]], "Mapping[str, KeyAge]"]
ROTATING: frozenset[Action] = frozenset({"updatekeys+rotate", "rotate", "re-encrypt"})


@dataclass(frozen=True)
class FilePlan:
    """What to do with one file, decided from the bytes whose digest is `digest`."""

    path: str  # repository-relative POSIX
    format: Format
    action: Action
    current: frozenset[Recipient] = frozenset()
    wanted: frozenset[Recipient] = frozenset()
    reasons: tuple[str, ...] = ()
    less_encrypted: tuple[str, ...] = ()  # key paths encrypted today, plaintext after
    rule: CreationRule | None = None
    digest: str = ""  # sha256 of the file when planned (ciphertext: not secret)
    mac_digest: str = ""  # sha256 of its stored (encrypted) MAC: changes iff values do

    @property
    def added(self) -> frozenset[Recipient]:
        return self.wanted - self.current

    @property
    def removed(self) -> frozenset[Recipient]:
        return self.current - self.wanted

    @property
    def rotates(self) -> bool:
        return self.action in ROTATING

    @property
    def changes(self) -> bool:
        return self.action not in ("nothing", "unmanaged", "error")


@dataclass(frozen=True)
class Plan:
    files: tuple[FilePlan, ...]
    mode: RotateMode
    source: str  # the registry or .sops.yaml the wanted state came from

    def count(self, action: Action) -> int:
        return sum(1 for f in self.files if f.action == action)

    @property
    def blocked(self) -> tuple[FilePlan, ...]:
        """Re-encryptions that would leave values in plaintext (need allow_less)."""
        return tuple(f for f in self.files if f.less_encrypted)

    @property
    def errors(self) -> tuple[FilePlan, ...]:
        return tuple(f for f in self.files if f.action == "error")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def mac_digest(doc: SopsDocument) -> str:
    """A digest of the file's encrypted MAC. `sops updatekeys` leaves it as it is, `rotate`
    and re-encryption write a new one (sops-format.md 3.5, 3.6): after a crash, whether a
    file's data key was already replaced is told by it."""
    return digest(doc.metadata.mac.encode())


def _groups(meta: Metadata) -> frozenset[frozenset[Recipient]]:
    return frozenset(g.recipients() for g in meta.key_groups)


def crypt_differs(doc: SopsDocument, rule: CreationRule) -> bool:
    """The file encrypts other values than `rule` would (the binary store has no rule)."""
    if doc.format == "binary":
        return False
    meta = doc.metadata
    return (meta.effective_crypt_rule != (rule.crypt_rule or DEFAULT_CRYPT_RULE)
            or meta.mac_only_encrypted != rule.mac_only_encrypted)


def newly_plaintext(doc: SopsDocument, rule: CreationRule) -> tuple[str, ...]:
    """Key paths of values encrypted today that `rule` would leave in plaintext."""
    if doc.format == "binary":
        return ()
    meta = dataclasses.replace(doc.metadata, crypt_rule=rule.crypt_rule,
                               mac_only_encrypted=rule.mac_only_encrypted)
    after = dataclasses.replace(doc, metadata=meta, _leaves=None)
    out = []
    for old, new in zip(doc.leaves(), after.leaves(), strict=True):
        if isinstance(old.value, str) and looks_encrypted(old.value) and not new.encrypted:
            prefix = f"document {old.document}: " if old.document else ""
            out.append(prefix + old.key_path)
    return tuple(out)


def _regroup(meta: Metadata, rule: CreationRule) -> bool:
    return _groups(meta) != frozenset(rule.key_groups) or (
        len(rule.key_groups) > 1
        and meta.threshold != (rule.shamir_threshold or len(rule.key_groups)))


def _describe_changes(meta: Metadata, rule: CreationRule, desired: Desired
                      ) -> tuple[list[str], bool, bool, bool]:
    """Reasons in words, and whether recipients are added, removed, or only regrouped."""
    added = rule.recipients - meta.recipients
    removed = meta.recipients - rule.recipients
    reasons = [f"add {desired.describe(r)}" for r in sorted(added)]
    reasons += [f"remove {desired.describe(r)}" for r in sorted(removed)]
    regroup = not added and not removed and _regroup(meta, rule)
    if regroup:
        reasons.append("key groups or Shamir threshold differ")
    return reasons, bool(added), bool(removed), regroup


MANAGED_TYPES = frozenset({"age", "pgp"})


def keep_foreign(meta: Metadata, rule: CreationRule, desired: Desired) -> CreationRule:
    """`rule` plus the file's recipients of a kind sopskit does not manage (AWS/GCP KMS,
    Azure Key Vault, Vault transit, HuaweiCloud KMS) that the wanted state says nothing
    about. Removing one would lock out whoever reads the file through that service, and
    only an explicit word (a registry key of that type retired or revoked, or a .sops.yaml
    rule listing keys of that type) may do that. Each is kept in its own group's place."""
    if not rule.key_groups:
        return rule
    groups = [set(g) for g in rule.key_groups]
    kept = False
    for index, group in enumerate(meta.key_groups):
        for recipient in group.recipients():
            if (recipient.type in MANAGED_TYPES or recipient in rule.recipients
                    or desired.decides(recipient, rule)):
                continue
            groups[min(index, len(groups) - 1)].add(recipient)
            kept = True
    if not kept:
        return rule
    return dataclasses.replace(rule, key_groups=tuple(frozenset(g) for g in groups))


def _crypt_reason(meta: Metadata, rule: CreationRule) -> str:
    want = rule.crypt_rule or DEFAULT_CRYPT_RULE
    have = meta.effective_crypt_rule
    return (f"crypt rule {have.kind}={have.value!r} -> {want.kind}={want.value!r}"
            f"{', mac_only_encrypted' if rule.mac_only_encrypted else ''}")


def decide(doc: SopsDocument, rule: CreationRule, mode: RotateMode, desired: Desired, *,
           rotate_anyway: str | None = None) -> tuple[Action, tuple[str, ...]]:
    """The action for `doc` and the reasons, in words. `rotate_anyway` says why the data
    key must change even with the same recipients (`always`, or a data key too old)."""
    reasons, added, removed, regroup = _describe_changes(doc.metadata, rule, desired)
    if crypt_differs(doc, rule):
        return "re-encrypt", (*reasons, _crypt_reason(doc.metadata, rule))
    if removed and mode == "never":
        return "updatekeys", (*reasons, "data key NOT rotated (--rotate-data-key never): the "
                              "removed keys can still read these values from git history")
    rotate = rotate_anyway if mode != "never" else None
    if rotate:
        reasons.append(rotate)
    if removed or (rotate and (added or regroup)):
        return "updatekeys+rotate", tuple(reasons)
    if added or regroup:
        return "updatekeys", tuple(reasons)
    return ("rotate", tuple(reasons)) if rotate else ("nothing", ())


def unmanaged(doc: SopsDocument, data: bytes, desired: Desired, why: str) -> FilePlan:
    """A file no rule covers: left alone, unless a key that lost access can still read it."""
    stale = sorted(desired.describe(r) for r in doc.metadata.recipients
                   if desired.status(r) not in (None, "active"))
    if stale:
        return FilePlan(doc.path, doc.format, "error", doc.metadata.recipients,
                        reasons=(f"{why}, yet {', '.join(stale)} can still read it: add a "
                                 "rule for it",), digest=digest(data))
    return FilePlan(doc.path, doc.format, "unmanaged", doc.metadata.recipients,
                    doc.metadata.recipients, (why + ": left alone",), digest=digest(data))


def rotation_reason(mode: RotateMode, age: KeyAge | None, max_age_days: int, *,
                    now: datetime | None = None) -> str | None:
    """Why the data key must change whatever the recipients, or None."""
    if mode == "always":
        return "new data key (--rotate-data-key always)"
    if mode == "auto" and age is not None:
        days = age.days(now or datetime.now(UTC))
        if days > max_age_days:
            return (f"data key {days} days old (> {max_age_days}; from git history, "
                    f"{age.describe()})")
    return None


def plan_document(doc: SopsDocument, data: bytes, desired: Desired, mode: RotateMode, *,
                  rotate_anyway: str | None = None) -> FilePlan:
    """The plan of one parsed file."""
    if doc.format in ("yaml", "json") and is_flux_decryption_secret(doc):
        return FilePlan(doc.path, doc.format, "unmanaged", doc.metadata.recipients,
                        doc.metadata.recipients, ("a Flux decryption secret: left alone; "
                                                  "regenerate it with `sopskit flux secret`",),
                        digest=digest(data))
    try:
        rule = desired.rule(doc.path, doc.format)
    except ConfigError as exc:  # registry.NoMatchingRule, or no .sops.yaml creation rule
        return unmanaged(doc, data, desired, "no rule covers this path" if isinstance(
            exc, NoMatchingRule) else exc.message)
    rule = keep_foreign(doc.metadata, rule, desired)
    action, reasons = decide(doc, rule, mode, desired, rotate_anyway=rotate_anyway)
    less = newly_plaintext(doc, rule) if action == "re-encrypt" else ()
    return FilePlan(doc.path, doc.format, action, doc.metadata.recipients, rule.recipients,
                    reasons, less, rule, digest(data), mac_digest(doc))


def plan_file(found: Found, desired: Desired, mode: RotateMode, *,
              age: KeyAge | None = None, max_age_days: int = DEFAULT_MAX_AGE_DAYS) -> FilePlan:
    """The plan of one found file; an unreadable or unmatched file is an `error` entry."""
    if found.error is not None:
        return FilePlan(found.shown, found.format, "error", reasons=(found.error,))
    try:
        doc = parse(found.data, path=found.shown, fmt=found.format)
        fp = plan_document(doc, found.data, desired, mode,
                           rotate_anyway=rotation_reason(mode, age, max_age_days))
    except SopskitError as exc:
        return FilePlan(found.shown, found.format, "error", reasons=(exc.message,),
                        digest=digest(found.data))
    unknown = _unknown_age(mode, age, max_age_days)
    return dataclasses.replace(fp, reasons=(*fp.reasons, unknown)) if unknown else fp


def _unknown_age(mode: RotateMode, age: KeyAge | None, max_age_days: int) -> str | None:
    """A shallow clone's history starts after the data key was made: its age is only a lower
    bound, so not rotating it is no verdict (CI's depth-1 checkout)."""
    if mode != "auto" or age is None or not age.at_least:
        return None
    days = age.days(datetime.now(UTC))
    if days > max_age_days:
        return None
    return (f"data-key age unknown (at least {days} days: this shallow clone's history starts "
            "later); run `git fetch --unshallow` to check it")


def make_plan(repo: Path, paths: Iterable[Path], desired: Desired,
              mode: RotateMode = "auto", *, age_of: AgeOf | None = None,
              max_age_days: int = DEFAULT_MAX_AGE_DAYS) -> Plan:
    """The plan for every sops file under `paths` (default: the whole repository).

    With `age_of` (e.g. the audit's data-key ages from git history) and mode `auto`, a data
    key older than `max_age_days` is rotated too."""
    found = list(find_files(repo, paths))
    ages: Mapping[str, KeyAge] = {}
    if age_of is not None and mode == "auto":
        ages = age_of([f.shown for f in found if f.error is None])
    files = tuple(plan_file(f, desired, mode, age=ages.get(f.shown), max_age_days=max_age_days)
                  for f in found)
    return Plan(files, mode, desired.source)
