"""Safe writes: a verified temp file beside the target replaces it atomically; a refused
or failed write leaves the original byte-identical and no temp file behind."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from sopskit.errors import VerificationError
from sopskit.fsio import TEMP_PREFIX, replace_verified, temp_beside


def leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.startswith(TEMP_PREFIX)]


def test_replace_after_verification_keeps_mode(tmp_path: Path) -> None:
    target = tmp_path / "s.yaml"
    target.write_bytes(b"old\n")
    target.chmod(0o640)
    seen: list[int] = []

    def verify(temp: Path) -> None:
        assert temp.parent == tmp_path and temp.suffix == ".yaml"
        seen.append(stat.S_IMODE(temp.stat().st_mode))
        assert temp.read_bytes() == b"new\n"

    replace_verified(target, b"new\n", verify)
    assert target.read_bytes() == b"new\n"
    assert seen == [0o600]  # never readable by others while unverified
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert leftovers(tmp_path) == []


def test_refused_write_leaves_original(tmp_path: Path) -> None:
    target = tmp_path / "s.yaml"
    target.write_bytes(b"original\n")

    def refuse(temp: Path) -> None:
        raise VerificationError("bad", check="mac", path=str(temp))

    with pytest.raises(VerificationError):
        replace_verified(target, b"replacement\n", refuse)
    assert target.read_bytes() == b"original\n"
    assert leftovers(tmp_path) == []


def test_interrupt_during_verification_cleans_up(tmp_path: Path) -> None:
    target = tmp_path / "s.env"
    target.write_bytes(b"A=1\n")

    def interrupt(temp: Path) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        replace_verified(target, b"A=2\n", interrupt)
    assert target.read_bytes() == b"A=1\n"
    assert leftovers(tmp_path) == []


def test_temp_beside_is_private_and_removed(tmp_path: Path) -> None:
    with temp_beside(tmp_path / "x.json") as temp:
        assert stat.S_IMODE(temp.stat().st_mode) == 0o600
        assert temp.suffix == ".json"
    assert not temp.exists()


def test_plaintext_output_is_0600_even_over_a_readable_file(tmp_path: Path) -> None:
    from sopskit.engine.decrypt import write_plaintext

    out = tmp_path / "plain.yaml"
    out.write_bytes(b"old: 1\n")
    out.chmod(0o644)
    write_plaintext(out, b"password: x\n")
    assert out.read_bytes() == b"password: x\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert leftovers(tmp_path) == []
