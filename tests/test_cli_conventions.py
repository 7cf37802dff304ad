"""Conventions every command keeps: `-h` prints its help, and `-q`/`-v` are accepted after the
subcommand as well as before it (one walk over the whole command tree, in process)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sopskit.cli import audit_cmd
from sopskit.cli.commands import LAZY, load
from sopskit.cli.main import cli
from tests.helpers import age_key, run_cli


def command_paths() -> Iterator[tuple[str, ...]]:
    def walk(prefix: tuple[str, ...], command: click.Command) -> Iterator[tuple[str, ...]]:
        yield prefix
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                yield from walk((*prefix, name), sub)
    for name in sorted(LAZY):
        command = load(name)
        assert command is not None
        yield from walk((name,), command)
    yield from walk(("audit", "baseline"), audit_cmd.baseline_group)


ALL = sorted(set(command_paths()))


def test_the_walk_sees_the_whole_tree() -> None:
    assert len(ALL) > len(LAZY) and ("keys", "list") in ALL and ("audit", "baseline", "create") in ALL


@pytest.mark.parametrize("path", ALL, ids=" ".join)
def test_dash_h_on_every_command(path: tuple[str, ...]) -> None:
    for flag in ("-h", "--help"):
        result = CliRunner().invoke(cli, [*path, flag], prog_name="sopskit")
        assert result.exit_code == 0, (path, flag, result.output)
        assert f"Usage: sopskit {' '.join(path)}" in result.output


@pytest.mark.parametrize("path", ALL, ids=" ".join)
def test_quiet_and_verbose_are_accepted_after_every_command(path: tuple[str, ...]) -> None:
    for flag in ("-q", "-v", "--quiet", "--verbose"):
        result = CliRunner().invoke(cli, [*path, flag, "--help"], prog_name="sopskit")
        assert result.exit_code == 0, (path, flag, result.output)


def test_quiet_after_the_subcommand_has_its_effect(tmp_path: Path) -> None:
    key = age_key()
    path = tmp_path / "s.yaml"
    path.write_text("a: 1\n")
    enc = run_cli("--repo", tmp_path, "encrypt", "-i", str(path), "--age", key.recipient, "-v")
    assert enc.code == 0 and "recipients age:" in enc.stderr  # -v after the subcommand
    loud = run_cli("--repo", tmp_path, "verify", str(path))
    quiet = run_cli("--repo", tmp_path, "verify", str(path), "-q")
    assert "ok    s.yaml" in loud.stdout and "ok    s.yaml" not in quiet.stdout
    assert quiet.stdout == run_cli("--repo", tmp_path, "-q", "verify", str(path)).stdout
