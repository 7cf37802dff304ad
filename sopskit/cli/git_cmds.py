"""`sopskit git setup | merge | textconv`: option parsing and rendering only."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from sopskit.cli.context import AppContext, note, pass_app
from sopskit.cli.identity_options import identities_for_command, identity_options
from sopskit.engine import paths
from sopskit.errors import UsageError
from sopskit.review.gitdriver import run_merge_driver
from sopskit.review.gitsetup import setup
from sopskit.review.textconv import textconv

PathArg = click.Path(path_type=Path, dir_okay=False)


@click.group("git")
def git_group() -> None:
    """git integration: a diff driver that shows key paths, a per-key merge driver."""


def self_command() -> str:
    """How git should run this sopskit (absolute, shell-quoted)."""
    script = Path(sys.argv[0])
    if script.name == "sopskit" and script.exists():
        return shlex.quote(str(script.resolve()))
    return f"{shlex.quote(sys.executable)} -m sopskit"


@git_group.command("setup")
@pass_app
def setup_cmd(app: AppContext) -> None:
    """Write .gitattributes lines for the sops files and the local git config of the
    `sopskit` diff and merge drivers (re-run after adding sops files)."""
    done = setup(app.repo, self_command())
    click.echo(f".gitattributes: {len(done.patterns)} path(s) use diff=sopskit "
               f"merge=sopskit{'' if done.changed else ' (unchanged)'}")
    for key, value in done.config:
        click.echo(f"git config --local {key} {shlex.quote(value)}")


@git_group.command("merge")
@click.argument("base", type=PathArg)
@click.argument("ours", type=PathArg)
@click.argument("theirs", type=PathArg)
@click.argument("name")
@identity_options
@pass_app
@click.pass_context
def merge_cmd(ctx: click.Context, app: AppContext, base: Path,  # noqa: PLR0917
              ours: Path, theirs: Path, name: str, identity_files: tuple[Path, ...],
              use_keyring: bool | None) -> None:
    """The merge driver git runs (`%O %A %B %P`); the result is left in OURS."""
    identities = identities_for_command(app, identity_files, use_keyring)
    done = run_merge_driver(base, ours, theirs, name, identities=identities, cwd=Path.cwd())
    if done.message:
        note(app, done.message)
    ctx.exit(done.code)


@git_group.command("textconv")
@click.argument("file", type=PathArg)
@click.option("--show-values", is_flag=True, help="Plaintext values (only on a terminal).")
@identity_options
@pass_app
def textconv_cmd(app: AppContext, file: Path, show_values: bool,
                 identity_files: tuple[Path, ...], use_keyring: bool | None) -> None:
    """What `git diff` shows for FILE: key paths and masked values."""
    if show_values and not sys.stderr.isatty():
        raise UsageError("--show-values prints secrets: only on a terminal")
    identities = identities_for_command(app, identity_files, use_keyring)
    data = paths.read_input(file, shown=str(file))
    sys.stdout.buffer.write(textconv(data, str(file), identities, show_values=show_values))
