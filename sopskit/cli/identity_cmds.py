"""`sopskit identity add/remove/export/list`: option parsing and rendering only."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from sopskit.cli.context import AppContext, pass_app
from sopskit.cli.identity_options import identities_for_command, identity_options
from sopskit.identity.listing import Listing, build_listing
from sopskit.identity.manage import add_identity, check_registry, export_identity, new_identity
from sopskit.identity.manage import remove_identity as remove_from_keyring
from sopskit.identity.registry_link import load_registry_keys

PathArg = click.Path(path_type=Path, dir_okay=False)
EXPORT_WARNING = ("sopskit: warning: the line on stdout is a PRIVATE key; do not paste it "
                  "into chats, tickets or shell history")


@click.group("identity")
def identity_group() -> None:
    """Age identities: store them in the OS keyring, list what sopskit can use."""


@identity_group.command("add")
@click.argument("name")
@click.option("--from-file", type=PathArg, help="Read the identity (AGE-SECRET-KEY-1...) here.")
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the identity from stdin.")
@click.option("--generate", is_flag=True, help="Generate a new identity.")
@click.option("--force", is_flag=True, help="Replace an identity already stored as NAME.")
@pass_app
def add_cmd(app: AppContext, name: str, *, from_file: Path | None, from_stdin: bool,
            generate: bool, force: bool) -> None:
    """Store an age identity in the OS keyring as NAME (a registry key name).

    When the repository has a registry with a key NAME, the identity's public part must
    be that key's recipient. Prints the public part on stdout, never the secret.
    """
    text = _read_stdin() if from_stdin else None
    identity = new_identity(from_file=from_file, text=text, generate_new=generate)
    note = check_registry(name, identity, load_registry_keys(app.repo))
    backend = add_identity(name, identity, replace=force)
    if note and app.verbosity >= 0:
        click.echo(note, err=True)
    if app.verbosity >= 0:
        click.echo(f"stored identity {name!r} in the keyring ({backend})", err=True)
    click.echo(identity.recipient)


def _read_stdin() -> str:
    """The identity from stdin; on a terminal, asked for without echo (a private key typed
    or pasted there would otherwise stay on screen and in the scrollback)."""
    if sys.stdin.isatty():
        return str(click.prompt("Age identity (AGE-SECRET-KEY-1...)", hide_input=True,
                                err=True))
    return sys.stdin.read()


@identity_group.command("remove")
@click.argument("name")
@pass_app
def remove_cmd(app: AppContext, name: str) -> None:
    """Delete the identity NAME from the OS keyring."""
    remove_from_keyring(name)
    if app.verbosity >= 0:
        click.echo(f"removed identity {name!r} from the keyring", err=True)


@identity_group.command("export")
@click.argument("name")
def export_cmd(name: str) -> None:
    """Print the PRIVATE key NAME from the keyring (for a backup or another machine)."""
    secret = export_identity(name)
    click.echo(EXPORT_WARNING, err=True)
    click.echo(secret)


@identity_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@identity_options
@pass_app
def list_cmd(app: AppContext, fmt: str, identity_files: tuple[Path, ...],
             use_keyring: bool | None) -> None:
    """Show every identity sopskit can use (public parts and sources, never secrets) and
    which registry keys you can therefore decrypt."""
    ids = identities_for_command(app, identity_files, use_keyring)
    listing = build_listing(ids, load_registry_keys(app.repo))
    if fmt == "json":
        click.echo(json.dumps(listing.to_json(), indent=2))
    else:
        click.echo(render(listing))


def render(listing: Listing) -> str:
    lines = ["age identities:"] if listing.identities else ["age identities: none"]
    for i in listing.identities:
        lines.append(f"  {i.recipient}  {i.name or '-'}  ({i.kind}, {i.source})")
    lines.append(f"pgp: GNUPGHOME {listing.gnupghome}" if listing.gnupghome else "pgp: none")
    if listing.registry:
        lines.append(f"registry {listing.registry}:")
        lines.append(f"  can decrypt for: {', '.join(listing.decryptable) or 'none'}")
        lines.append(f"  no private key for: {', '.join(listing.missing) or 'none'}")
    lines += [f"note: {n}" for n in listing.notes]
    return "\n".join(lines)
