"""The gpg adapter (sopskit/gpg.py, python-gnupg) with the real gpg: key files read without
importing them, a generated key, the secret keys of a home, and a sops data key unwrapped."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from sopskit import gpg
from sopskit.errors import InputError
from tests.helpers import UPSTREAM, UPSTREAM_FPS, GpgHome


def test_generate_then_read_the_public_key_file(tmp_path: Path) -> None:
    made = gpg.generate("bot <bot@example.invalid>")
    public = tmp_path / "bot.asc"
    public.write_text(made.public_armor)
    info = gpg.inspect_key_file(public)
    assert info.fingerprints == (made.fingerprint,) and not info.has_secret
    assert info.expires is None and gpg.key_expiry(public) is None
    secret = gpg.inspect_key_data(made.secret_armor.encode(), path="secret.asc")
    assert secret.has_secret and secret.fingerprints == (made.fingerprint,)


def test_a_key_file_that_expires(gpg_home: GpgHome, tmp_path: Path) -> None:
    gpg_home.gpg("--quick-gen-key", "exp <exp@example.invalid>", "future-default", "default",
                 "2031-05-06")
    public = tmp_path / "exp.asc"
    public.write_bytes(gpg_home.gpg("--armor", "--export", "exp@example.invalid").stdout)
    assert gpg.key_expiry(public) == date(2031, 5, 6)


def test_not_a_key_file_is_named(tmp_path: Path) -> None:
    junk = tmp_path / "junk.asc"
    junk.write_text("not a key\n")
    with pytest.raises(InputError, match="not an OpenPGP key file"):
        gpg.inspect_key_file(junk)
    assert gpg.key_expiry(junk) is None
    with pytest.raises(InputError, match="cannot read key file"):
        gpg.inspect_key_file(tmp_path / "missing.asc")


def test_secret_keys_of_a_home_and_a_sops_data_key(upstream_gpg: GpgHome) -> None:
    found = gpg.secret_fingerprints(upstream_gpg.path)
    assert set(UPSTREAM_FPS) <= found
    text = (UPSTREAM / "example.yaml").read_text()
    start = text.index("-----BEGIN PGP MESSAGE-----")
    end = text.index("-----END PGP MESSAGE-----") + len("-----END PGP MESSAGE-----")
    message = "\n".join(line.strip() for line in text[start:end].splitlines()) + "\n"
    key = gpg.decrypt(upstream_gpg.path, message.encode())
    assert key is not None and len(key) == 32
    assert gpg.decrypt(upstream_gpg.path, b"not a message") is None


def test_export_secret_only_from_a_home_that_has_it(upstream_gpg: GpgHome,
                                                    tmp_path: Path) -> None:
    exported = gpg.export_secret(upstream_gpg.path, UPSTREAM_FPS[0])
    assert exported is not None and "BEGIN PGP PRIVATE KEY BLOCK" in exported
    empty = tmp_path / "g"
    empty.mkdir(mode=0o700)
    assert gpg.export_secret(empty, UPSTREAM_FPS[0]) is None
    assert gpg.secret_fingerprints(empty) == frozenset()


def test_python_gnupg_debug_logging_never_carries_key_material(
        upstream_gpg: GpgHome, caplog: pytest.LogCaptureFixture) -> None:
    """python-gnupg logs what gpg prints at DEBUG ('chunk: ...', 'export_keys result'):
    an application that embeds sopskit with DEBUG logging must not get a data key or a
    secret key in its log."""
    caplog.set_level(logging.DEBUG)
    text = (UPSTREAM / "example.yaml").read_text()
    start = text.index("-----BEGIN PGP MESSAGE-----")
    end = text.index("-----END PGP MESSAGE-----") + len("-----END PGP MESSAGE-----")
    message = "\n".join(line.strip() for line in text[start:end].splitlines()) + "\n"
    key = gpg.decrypt(upstream_gpg.path, message.encode())
    exported = gpg.export_secret(upstream_gpg.path, UPSTREAM_FPS[0])
    made = gpg.generate("bot <bot@example.invalid>")
    assert key is not None and exported is not None
    logged = "\n".join(r.getMessage() for r in caplog.records)
    body = next(ln for ln in exported.splitlines()[1:] if ln and ":" not in ln)
    made_body = next(ln for ln in made.secret_armor.splitlines()[1:] if ln and ":" not in ln)
    for planted in (repr(key)[2:-1], key.hex(), body[:40], made_body[:40],
                    "PRIVATE KEY BLOCK"):
        assert planted not in logged
