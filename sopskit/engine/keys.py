"""Changing who can read a file (updatekeys) and its data key (rotate), verified.

`sops updatekeys` re-wraps the same data key and writes in place; `sops rotate` makes a new
data key and prints the file. `rotate --add-*/--rm-*` changes recipients and the data key
in one call (one unwrap instead of the two of updatekeys + rotate, sops-format.md 3.5/3.6),
which `rekey_file` uses whenever the change fits a single key group.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sopskit.engine import paths, write_check
from sopskit.engine.encrypt import encrypting_sops
from sopskit.errors import NoIdentityError
from sopskit.fsio import replace_file_verified, replace_verified, temp_beside
from sopskit.identity.model import Identities
from sopskit.recipient import Recipient
from sopskit.sops.config import CreationRule
from sopskit.sops.runner import Sops
from sopskit.sopsfile.datakey import recover_data_key
from sopskit.sopsfile.document import detect_format


@dataclass(frozen=True)
class Rekeyed:
    """What `rekey_file` did to one file."""

    path: str
    added: frozenset[Recipient]
    removed: frozenset[Recipient]
    rotated: bool
    sops_calls: int

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.rotated)


def _current(source: Path, shown: str, identities: Identities, *,
             require_key: bool) -> write_check.Checked:
    data = paths.read_input(source, shown=shown)
    return write_check.check_bytes(data, path=shown, fmt=detect_format(str(source)),
                             identities=identities,
                             expect=write_check.Expect(require_key=require_key))


def updatekeys(source: Path, rule: CreationRule, *, repo: Path, sops: Sops,
               identities: Identities) -> None:
    """Re-wrap the same data key for exactly `rule`'s recipients (values untouched)."""
    shown = paths.display(repo, source)
    before = _current(source, shown, identities, require_key=False)
    expect = write_check.Expect(recipients=rule.recipients, key_same_as=before.data_key)
    with temp_beside(source) as temp, _wrapping_sops(sops, rule, before, identities) as wrap:
        shutil.copyfile(source, temp)
        wrap.updatekeys(temp, rule=rule, shown=shown)
        replace_file_verified(source, temp, lambda p: _verify(p, shown, source, identities,
                                                              expect))


def rotate(source: Path, *, repo: Path, sops: Sops, identities: Identities,
           add: frozenset[Recipient] = frozenset(),
           remove: frozenset[Recipient] = frozenset()) -> None:
    """A new data key (and optionally recipients changed in the same call), verified:
    recipients as expected, key changed, MAC valid, same content as before."""
    shown = paths.display(repo, source)
    before = _current(source, shown, identities, require_key=True)
    _rotate(source, shown, before, sops=sops, identities=identities, add=add, remove=remove)


def _rotate(source: Path, shown: str, before: write_check.Checked, *, sops: Sops,
            identities: Identities, add: frozenset[Recipient],
            remove: frozenset[Recipient]) -> None:
    assert before.data_key is not None
    recipients = (before.document.metadata.recipients | add) - remove
    raw_remove = _as_stored(before, remove)
    out = sops.rotate(source, add=add, remove=raw_remove, shown=shown)
    plain = write_check.decrypt(before.document, before.data_key)
    expect = write_check.Expect(recipients=recipients, key_changed_from=before.data_key,
                          plaintext=plain, require_key=True)
    replace_verified(source, out, lambda p: _verify(p, shown, source, identities, expect))


def rekey_file(source: Path, rule: CreationRule, *, repo: Path, sops: Sops,
               identities: Identities, rotate_key: bool = True) -> Rekeyed:
    """Make `source` readable by exactly `rule`'s recipients; with `rotate_key`, also give
    it a new data key. One sops call when the file and the rule have one key group."""
    shown = paths.display(repo, source)
    before = _current(source, shown, identities, require_key=rotate_key)
    meta = before.document.metadata
    current, wanted = meta.recipients, rule.recipients
    added, removed = wanted - current, current - wanted
    single = len(meta.key_groups) <= 1 and len(rule.key_groups) == 1
    calls = 0
    if (added or removed) and not (single and rotate_key):
        updatekeys(source, rule, repo=repo, sops=sops, identities=identities)
        calls += 1
        added = removed = frozenset()
    if rotate_key:
        if calls:  # updatekeys rewrote the file: read it again
            before = _current(source, shown, identities, require_key=True)
        with _wrapping_sops(sops, rule, before, identities) as wrap:
            _rotate(source, shown, before, sops=wrap, identities=identities, add=added,
                    remove=removed)
        calls += 1
    return Rekeyed(shown, wanted - current, current - wanted, rotate_key, calls)


@contextlib.contextmanager
def _wrapping_sops(sops: Sops, rule: CreationRule, before: write_check.Checked,
                   identities: Identities) -> Iterator[Sops]:
    """sops with a scratch GNUPGHOME of the rule's PGP public keys (encrypt.encrypting_sops)
    when age identities alone open the file: that home holds no secret key."""
    if rule.pgp_key_files and _age_opens(before, identities):
        with encrypting_sops(sops, rule) as wrapped:
            yield wrapped
    else:
        yield sops


def _age_opens(before: write_check.Checked, identities: Identities) -> bool:
    try:
        recover_data_key(before.document.metadata, Identities(identities.age), path="")
    except NoIdentityError:
        return False
    return True


def _as_stored(before: write_check.Checked, remove: frozenset[Recipient]) -> frozenset[Recipient]:
    """The recipients to remove spelled as the file stores them (`--rm-*` matches the
    stored string exactly, `rotate.go`), e.g. a lower-case PGP fingerprint."""
    out: set[Recipient] = set()
    for group in before.document.metadata.key_groups:
        out |= {Recipient("age", s.recipient) for s in group.age
                if Recipient.age(s.recipient) in remove}
        out |= {Recipient("pgp", s.fp) for s in group.pgp if Recipient.pgp(s.fp) in remove}
    return frozenset(out)


def _verify(temp: Path, shown: str, source: Path, identities: Identities,
            expect: write_check.Expect) -> None:
    write_check.check_path(temp, path=shown, fmt=detect_format(str(source)), identities=identities,
                     expect=expect)
