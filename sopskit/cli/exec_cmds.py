"""`sopskit exec-env` and `exec-file`: option parsing only; the child's exit code is ours."""

from __future__ import annotations

from pathlib import Path

import click

from sopskit.cli.context import AppContext, input_type_option, pass_app
from sopskit.cli.file_cmds import sops_for
from sopskit.cli.identity_options import identities_for_command, identity_options
from sopskit.engine import paths
from sopskit.engine.decrypt import Decrypted, decrypt_file
from sopskit.engine.execenv import run_with_env
from sopskit.engine.execfile import run_with_file
from sopskit.sopsfile.document import detect_format
from sopskit.sopsfile.model import Format

PathArg = click.Path(path_type=Path)
_PASS_THROUGH = {"ignore_unknown_options": True, "allow_interspersed_args": False}


@click.command("exec-env", context_settings=_PASS_THROUGH)
@click.argument("file", type=PathArg)
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option("--pristine", is_flag=True, help="Only the file's values (and PATH), not our "
              "environment.")
@input_type_option
@identity_options
@pass_app
@click.pass_context
def exec_env_cmd(ctx: click.Context, app: AppContext, file: Path,  # noqa: PLR0917
                 command: tuple[str, ...], pristine: bool, input_type: Format | None,
                 identity_files: tuple[Path, ...], use_keyring: bool | None) -> None:
    """Run COMMAND with FILE's values as environment variables (nothing on disk).

    sopskit exec-env FILE -- CMD ARG...   Nested keys join with `__`; a Kubernetes
    Secret gives its data (decoded) and stringData keys. Exit code: COMMAND's.
    """
    source, done = _decrypted(app, file, identity_files, use_keyring, input_type)
    ctx.exit(run_with_env(done, detect_format(str(source), input_type), _argv(command),
                          shown=paths.display(app.repo, source), pristine=pristine))


@click.command("exec-file", context_settings=_PASS_THROUGH)
@click.argument("file", type=PathArg)
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option("--no-fifo", is_flag=True, help="A 0600 file in a private directory instead "
              "of a FIFO (for commands that read the file more than once).")
@input_type_option
@identity_options
@pass_app
@click.pass_context
def exec_file_cmd(ctx: click.Context, app: AppContext, file: Path,  # noqa: PLR0917
                  command: tuple[str, ...], no_fifo: bool, input_type: Format | None,
                  identity_files: tuple[Path, ...], use_keyring: bool | None) -> None:
    """Run COMMAND with `{}` replaced by a path to FILE's plaintext, removed afterwards.

    sopskit exec-file FILE -- CMD {}   (a FIFO by default: readable once; in /dev/shm).
    Exit code: COMMAND's.
    """
    source, done = _decrypted(app, file, identity_files, use_keyring, input_type)
    ctx.exit(run_with_file(done.plaintext, source.name, _argv(command), fifo=not no_fifo))


def _decrypted(app: AppContext, file: Path, identity_files: tuple[Path, ...],
               use_keyring: bool | None, input_type: Format | None) -> tuple[Path, Decrypted]:
    identities = identities_for_command(app, identity_files, use_keyring)
    source = paths.target(app.repo, file)
    return source, decrypt_file(source, repo=app.repo, identities=identities,
                                sops=lambda: sops_for(app, identities), input_type=input_type)


def _argv(command: tuple[str, ...]) -> tuple[str, ...]:
    """The command after FILE; options of ours go before FILE, so a `--` is optional."""
    return command[1:] if command[:1] == ("--",) else command
