"""The expiry date of a PGP public key file, as gpg reports it (`--with-colons`, field 7 of
the `pub` record), read in a scratch GNUPGHOME so nothing is imported anywhere."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sopskit import process
from sopskit.registry.pgpkey import GPG_TIMEOUT, scratch_home


def key_expiry(public_key: Path) -> date | None:
    """When the primary key expires (None: never, or the file could not be read)."""
    with scratch_home() as home:
        done = process.run(
            ["gpg", "--batch", "--no-tty", "--homedir", str(home), "--with-colons",
             "--import-options", "show-only", "--import", str(public_key)],
            env=process.base_env({"GNUPGHOME": str(home)}), timeout=GPG_TIMEOUT)
    if done.returncode != 0:
        return None
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        fields = line.split(":")
        if fields[0] == "pub" and len(fields) > 6:
            return _date(fields[6])
    return None


def _date(field: str) -> date | None:
    if not field:
        return None
    if field.isdigit():
        return datetime.fromtimestamp(int(field), UTC).date()
    try:
        return date.fromisoformat(field[:10])
    except ValueError:
        return None
