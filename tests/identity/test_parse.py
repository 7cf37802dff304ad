"""Reading identities from keys-file text, key files and ssh keys (real keys, real ssh-keygen)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pyrage
import pytest

from sopskit.errors import InputError
from sopskit.identity.parse import generate, parse_age_secret, parse_keys_text, read_key_file
from tests.helpers import age_key


def _corrupt(secret: str) -> str:
    """The same identity with one character changed: the bech32 checksum no longer holds."""
    last = secret[-1]
    return secret[:-1] + ("Q" if last != "Q" else "P")


def test_keys_text_comments_blank_lines_and_several_per_line() -> None:
    a, b, c = age_key(), age_key(), age_key()
    text = (f"# created: 2024-01-01\n# public key: {a.recipient}\n{a.secret}\n\n"
            f"  {b.secret} {c.secret}  \n")
    found = parse_keys_text(text, source="SOPS_AGE_KEY")
    assert [i.recipient for i in found.age] == [a.recipient, b.recipient, c.recipient]
    assert [i.secret for i in found.age] == [a.secret, b.secret, c.secret]
    assert {i.source for i in found.age} == {"SOPS_AGE_KEY"}
    assert found.notes == []


def test_malformed_identity_names_source_and_line_never_the_secret() -> None:
    good, bad = age_key(), _corrupt(age_key().secret)
    with pytest.raises(InputError) as err:
        parse_keys_text(f"# keys\n{good.secret}\n{bad}\n", source="SOPS_AGE_KEY")
    assert str(err.value).startswith("SOPS_AGE_KEY:3: not a valid age identity")
    assert bad not in str(err.value) and bad[16:] not in str(err.value)


def test_lowercase_identity_is_accepted_in_canonical_form() -> None:
    key = age_key()
    ident = parse_age_secret(key.secret.lower(), source="t")
    assert ident.secret == key.secret and ident.recipient == key.recipient


def test_plugin_and_post_quantum_identities_are_skipped_with_a_note() -> None:
    key = age_key()
    found = parse_keys_text(f"AGE-PLUGIN-YUBIKEY-1QQQ\n{key.secret}\n", source="f")
    assert [i.recipient for i in found.age] == [key.recipient]
    assert found.notes == ["f:1: age plugin identity skipped (sopskit cannot use it natively)"]


def test_generate_makes_a_working_pair() -> None:
    ident = generate()
    assert str(pyrage.x25519.Identity.from_str(ident.secret).to_public()) == ident.recipient


def _ssh_keygen(path: Path, *args: str) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-f", str(path), "-C", "t", *args],
                   check=True, capture_output=True, timeout=60)


def test_ssh_key_file_becomes_an_ssh_identity(tmp_path: Path) -> None:
    _ssh_keygen(tmp_path / "id", "-N", "")
    found = read_key_file(tmp_path / "id", source="--identity id")
    (ident,) = found.age
    assert ident.kind == "ssh"
    public = (tmp_path / "id.pub").read_text().split()
    assert ident.recipient == f"{public[0]} {public[1]}"


def test_passphrase_protected_ssh_key_is_refused(tmp_path: Path) -> None:
    _ssh_keygen(tmp_path / "id", "-N", "hunter2")
    with pytest.raises(InputError, match="passphrase-protected"):
        read_key_file(tmp_path / "id", source="x")


@pytest.mark.slow  # three scrypt passes (age's work factor): ~2 s each
def test_age_encrypted_keys_file_needs_a_passphrase(tmp_path: Path) -> None:
    key = age_key()
    path = tmp_path / "keys.txt.age"
    path.write_bytes(pyrage.passphrase.encrypt(f"# a key\n{key.secret}\n".encode(), "pw",
                                               armored=True))
    with pytest.raises(InputError) as err:  # no terminal to ask on: a clear error
        read_key_file(path, source="SOPS_AGE_KEY_FILE")
    assert "age-encrypted with a passphrase" in str(err.value)
    assert str(path) in str(err.value)

    asked: list[str] = []

    def passphrase(source: str) -> str:
        asked.append(source)
        return "pw"

    found = read_key_file(path, source="SOPS_AGE_KEY_FILE", passphrase=passphrase)
    assert [i.recipient for i in found.age] == [key.recipient]
    assert asked == ["SOPS_AGE_KEY_FILE"]
    with pytest.raises(InputError, match="wrong passphrase"):
        read_key_file(path, source="x", passphrase=lambda _source: "not-it")


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_key_file(tmp_path / "nope", source="x")
    (tmp_path / "bin").write_bytes(b"\xff\xfe\x00junk")
    with pytest.raises(InputError, match="not a text"):
        read_key_file(tmp_path / "bin", source="x")
