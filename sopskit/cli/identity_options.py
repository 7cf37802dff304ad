"""The identity options any command that decrypts can offer: `--identity FILE` and
`--keyring/--no-keyring`, resolved into `Identities` with registry names filled in.

Usage in a command module:

    @click.command("decrypt")
    @identity_options
    @pass_app
    def decrypt_cmd(app, identity_files, use_keyring, ...):
        identities = identities_for_command(app, identity_files, use_keyring)
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from sopskit.cli.context import AppContext
from sopskit.identity.model import Identities
from sopskit.identity.parse import Passphrase
from sopskit.identity.registry_link import discover_for_repo

F = TypeVar("F", bound=Callable[..., object])


def identity_options(func: F) -> F:
    """Add `--identity FILE` (repeatable) and `--keyring/--no-keyring` to a command."""
    func = click.option(
        "--keyring/--no-keyring", "use_keyring", default=None,
        help="Read the OS keyring even with CI / SOPS_AGE_KEY[_FILE] set (or never).")(func)
    return click.option(
        "--identity", "identity_files", multiple=True, metavar="FILE",
        type=click.Path(path_type=Path, dir_okay=False),
        help="An age keys file or ssh private key to use first; repeatable.")(func)


def identities_for_command(app: AppContext, identity_files: tuple[Path, ...],
                           use_keyring: bool | None) -> Identities:
    """discover() with the command's options, naming keys after the repo's registry."""
    return discover_for_repo(app.repo, identity_files=identity_files, use_keyring=use_keyring,
                             passphrase=terminal_passphrase())


def terminal_passphrase() -> Passphrase | None:
    """A prompt for the passphrase of an age-encrypted keys file, only on a terminal."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return None

    def ask(source: str) -> str:
        return str(click.prompt(f"Passphrase for {source}", hide_input=True, err=True))
    return ask
