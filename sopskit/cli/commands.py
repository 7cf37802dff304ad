"""The table of top-level commands, loaded on first use.

Each command module is imported only when its command runs (or for `--help`): a full import
of every command costs ~0.2 s of start-up, which `sopskit verify` in a pre-commit hook or
over hundreds of files should not pay. Add a command by adding its row here.
"""

from __future__ import annotations

import dataclasses
import importlib

import click

from sopskit.cli.complete import add_completions
from sopskit.cli.context import AppContext

# command name -> (module under sopskit.cli, attribute holding the click command)
LAZY: dict[str, tuple[str, str]] = {
    "encrypt": ("file_cmds", "encrypt_cmd"),
    "decrypt": ("file_cmds", "decrypt_cmd"),
    "edit": ("file_cmds", "edit_cmd"),
    "set": ("value_cmds", "set_cmd"),
    "unset": ("value_cmds", "unset_cmd"),
    "diff": ("diff_cmd", "diff_cmd"),
    "git": ("git_cmds", "git_group"),
    "exec-env": ("exec_cmds", "exec_env_cmd"),
    "exec-file": ("exec_cmds", "exec_file_cmd"),
    "verify": ("verify_cmd", "verify_cmd"),
    "doctor": ("doctor", "doctor_cmd"),
    "demo": ("demo", "demo_cmd"),
    "identity": ("identity_cmds", "identity_group"),
    "init": ("registry_cmds", "init_cmd"),
    "keys": ("registry_cmds", "keys_group"),
    "config": ("registry_cmds", "config_group"),
    "recipients": ("registry_cmds", "recipients_cmd"),
    "rules": ("rules_cmds", "rules_group"),
    "rekey": ("rekey_cmds", "rekey_cmd"),
    "runbook": ("rekey_cmds", "runbook_group"),
    "flux": ("rekey_cmds", "flux_group"),
    "audit": ("audit_cmd", "audit_cmd"),
    "exposure": ("history_cmds", "exposure_cmd"),
    "access": ("access_cmd", "access_cmd"),
}


def load(name: str) -> click.Command | None:
    """The command called `name`, importing its module now; None for an unknown name."""
    row = LAZY.get(name)
    if row is None:
        return None
    module = importlib.import_module(f"sopskit.cli.{row[0]}")
    command = getattr(module, row[1])
    assert isinstance(command, click.Command)
    for obj in vars(module).values():  # groups routed by hand too (`audit baseline`)
        if isinstance(obj, click.Command):
            add_verbosity_options(obj)
            add_completions(obj)
    return command


def _set_verbosity(ctx: click.Context, param: click.Parameter, value: int | bool) -> None:
    """`-q`/`-v` given after the subcommand: the same effect as before it."""
    if not value:
        return
    app = ctx.find_object(AppContext)
    if app is None:
        return
    level = -1 if param.name == "quiet" else max(app.verbosity, 0) + int(value)
    updated = dataclasses.replace(app, verbosity=level)
    here: click.Context | None = ctx
    while here is not None:
        if isinstance(here.obj, AppContext):
            here.obj = updated
        here = here.parent


def add_verbosity_options(command: click.Command) -> None:
    """Accept the global `-q`/`--quiet` and `-v`/`--verbose` after any (sub)command too, as
    users type them (`sopskit verify -q FILE`); once per command object."""
    if getattr(command, "_sopskit_verbosity", False):
        return
    command._sopskit_verbosity = True  # type: ignore[attr-defined]
    taken = {opt for p in command.params for opt in getattr(p, "opts", ())}
    if not taken & {"-v", "--verbose"}:
        command.params.append(click.Option(["-v", "--verbose"], count=True, expose_value=False,
                                           callback=_set_verbosity, help="More detail."))
    if not taken & {"-q", "--quiet"}:
        command.params.append(click.Option(["-q", "--quiet"], is_flag=True, expose_value=False,
                                           callback=_set_verbosity, help="Only errors."))
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            add_verbosity_options(sub)


class LazyGroup(click.Group):
    """A click group whose subcommands come from LAZY."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(LAZY)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return load(cmd_name)
