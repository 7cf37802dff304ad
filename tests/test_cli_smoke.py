"""The installed CLI starts, shows its version, and maps usage errors to exit code 2."""

from __future__ import annotations

from sopskit import __version__
from tests.helpers import run_cli


def test_version() -> None:
    result = run_cli("--version")
    assert result.code == 0
    assert __version__ in result.stdout


def test_unknown_command_is_usage_error() -> None:
    result = run_cli("no-such-command")
    assert result.code == 2
    assert "no-such-command" in result.stderr
