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


def test_every_lazy_command_loads_under_its_own_name() -> None:
    from sopskit.cli.commands import LAZY, load

    for name in LAZY:
        command = load(name)
        assert command is not None and command.name == name


def test_verify_does_not_import_other_commands() -> None:
    import subprocess
    import sys

    code = ("import sys; from sopskit.cli.main import cli; from sopskit.cli.commands import load;"
            " load('verify'); print(sorted(m for m in sys.modules if m.startswith(('keyring',"
            " 'sopskit.audit', 'sopskit.engine.rekey', 'sopskit.registry.edit'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
