"""Deciding who a file is encrypted to and which of its values are encrypted.

In order: `--age`/`--pgp` options (recipients only; the crypt rule still comes from the
repository's rules, as sops' CLI key flags override only the config's keys,
`getEncryptConfig`); the key registry when `keys/registry.yaml` exists; else the
`.sops.yaml` at the repository root, matched natively as sops would (sops/config.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyrage

from sopskit.engine.registry_policy import from_registry
from sopskit.errors import ConfigError, UsageError, looks_secret
from sopskit.recipient import Recipient, is_pgp_fingerprint
from sopskit.sops.config import CreationRule, find_config, rule_for


@dataclass(frozen=True)
class Policy:
    """A creation rule plus the sops config to hand over when sops should match it itself."""

    rule: CreationRule
    sops_config: Path | None = None  # the repository's .sops.yaml, when that is the source

    @property
    def recipients(self) -> frozenset[Recipient]:
        return self.rule.recipients


def option_recipients(age: Sequence[str], pgp: Sequence[str]) -> frozenset[Recipient]:
    """Recipients given on the command line (comma-separated lists allowed, as in sops),
    each checked so that a typo is a usage error naming it, not a sops failure."""
    ages = [a.strip() for v in age for a in v.split(",") if a.strip()]
    pgps = [p.strip() for v in pgp for p in v.split(",") if p.strip()]
    for n, recipient in enumerate(ages, 1):
        check_age(recipient, _nth("--age", n, len(ages)))
    for n, fp in enumerate(pgps, 1):
        if not is_pgp_fingerprint(fp):
            raise UsageError(f"{_nth('--pgp', n, len(pgps))}: "
                             f"{_mistake(fp, 'not a PGP fingerprint (40 hex digits)')}")
    return frozenset({Recipient.age(a) for a in ages} | {Recipient.pgp(p) for p in pgps})


def _nth(option: str, n: int, count: int) -> str:
    return option if count == 1 else f"{option} (value {n} of {count})"


def _mistake(value: str, kind: str) -> str:
    """What is wrong with a value, never the value: a private key pasted where a public one
    belongs must not reach a terminal, CI log or shell history of messages."""
    if looks_secret(value):
        return ("this is a private key, not a recipient: give its public key (age1...; "
                "`age-keygen -y KEYFILE` prints it); the value is not shown")
    return kind


def check_age(recipient: str, option: str = "--age") -> None:
    """age X25519 (`age1...`) or ssh public keys, as sops' age/keysource.go accepts."""
    if recipient.startswith(("ssh-ed25519 ", "ssh-rsa ")):
        return
    if recipient.startswith("age1") and "1" in recipient[4:]:
        return  # plugin or post-quantum recipient (age1<name>1...): sops decides
    try:
        pyrage.x25519.Recipient.from_str(recipient)
    except pyrage.RecipientError:
        kind = _mistake(recipient, "not an age recipient (age1... or an ssh public key)")
        raise UsageError(f"{option}: {kind}") from None


def decide(repo: Path, target: Path, *, age: Sequence[str] = (),
           pgp: Sequence[str] = ()) -> Policy:
    """The policy for `target` (an absolute path inside `repo`)."""
    chosen = option_recipients(age, pgp)
    base = _repository_policy(repo, target, required=not chosen)
    if not chosen:
        assert base is not None
        return base
    rule = base.rule if base is not None else CreationRule(key_groups=())
    rule = dataclasses.replace(rule, key_groups=(chosen,), shamir_threshold=None,
                               source="--age/--pgp options")
    return Policy(rule)


def _repository_policy(repo: Path, target: Path, *, required: bool) -> Policy | None:
    """The registry's rule, else the root .sops.yaml's; errors only when `required`."""
    outside = not target.is_relative_to(repo.resolve())
    for source in (_from_registry, _from_sops_yaml):
        try:
            found = source(repo, target)
        except ConfigError:
            if required and outside:
                raise _outside(repo, target) from None
            if required:
                raise
            continue
        if found is not None:
            return found
    if required and outside:
        raise _outside(repo, target)
    if required:
        raise UsageError(f"no recipients for {target.name}: pass --age/--pgp, or add "
                         f"keys/registry.yaml or a .sops.yaml at {repo}")
    return None


def _outside(repo: Path, target: Path) -> UsageError:
    return UsageError(f"the file is outside the repository {repo}, so its registry and"
                      " .sops.yaml rules do not say who reads it; pass the recipients:"
                      " --age age1... and/or --pgp FINGERPRINT", path=target)


def _from_registry(repo: Path, target: Path) -> Policy | None:
    if not target.is_relative_to(repo.resolve()):
        return None  # a file outside the repository: its registry does not speak for it
    rule = from_registry(repo, target)
    return Policy(rule) if rule is not None else None


def _from_sops_yaml(repo: Path, target: Path) -> Policy | None:
    config = find_config(repo)
    return Policy(rule_for(config, target), sops_config=config) if config else None
