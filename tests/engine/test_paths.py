"""Paths: symlinks leaving the repository are refused; oversized and missing files are
one-line input errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sopskit.engine import paths
from sopskit.errors import InputError, UnsafePathError


def test_symlink_out_of_repo_is_refused(tmp_path: Path) -> None:
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    repo.mkdir()
    outside.mkdir()
    (outside / "s.yaml").write_text("a: 1\n")
    (repo / "link").symlink_to(outside)
    with pytest.raises(UnsafePathError):
        paths.target(repo, repo / "link" / "s.yaml")
    with pytest.raises(UnsafePathError):
        paths.target(repo, repo / ".." / "outside" / "s.yaml")


def test_path_inside_repo_is_resolved(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "s.yaml").write_text("a: 1\n")
    (tmp_path / "alias").symlink_to(tmp_path / "d")
    assert paths.target(tmp_path, tmp_path / "alias" / "s.yaml") == (
        tmp_path / "d" / "s.yaml").resolve()


def test_oversized_and_missing_files(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as fh:
        fh.truncate(paths.MAX_INPUT_BYTES + 1)
    with pytest.raises(InputError, match="too large"):
        paths.read_input(big, shown="big.yaml")
    with pytest.raises(InputError, match="does not exist"):
        paths.read_input(tmp_path / "nope.yaml", shown="nope.yaml")
    with pytest.raises(InputError, match="directory"):
        paths.read_input(tmp_path, shown=".")


def test_scan_reads_regular_files_only(tmp_path: Path) -> None:
    import os

    (tmp_path / "f.yaml").write_text("a: 1\n")
    os.mkfifo(tmp_path / "pipe.yaml")  # would block a naive open()
    outside = tmp_path.parent / f"{tmp_path.name}-outside.yaml"
    outside.write_text("secret: x\n")
    (tmp_path / "link.yaml").symlink_to(outside)
    assert paths.read_if_small(str(tmp_path / "f.yaml")) == b"a: 1\n"
    assert paths.read_if_small(str(tmp_path / "pipe.yaml")) is None
    assert paths.read_if_small(str(tmp_path / "link.yaml")) is None
    assert paths.read_if_small(str(tmp_path / "missing.yaml")) is None


def test_fifo_and_devices_are_refused_without_blocking(tmp_path: Path) -> None:
    """A FIFO would block the read forever and /dev/zero never ends (memory grows until
    the machine kills us): both are refused from their type, nothing is read."""
    fifo = tmp_path / "s.yaml"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        paths.read_input(fifo, shown="s.yaml")
    with pytest.raises(InputError, match="not a regular file"):
        paths.read_input(Path("/dev/zero"), shown="/dev/zero")
