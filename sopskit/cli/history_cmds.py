"""`sopskit exposure`: what a key could ever read in history, and what is still live."""

from __future__ import annotations

import json
from pathlib import Path

import click

from sopskit.cli.context import AppContext, pass_app
from sopskit.cli.identity_options import identities_for_command, identity_options
from sopskit.history.exposure import exposure, key_ref
from sopskit.history.render import exposure_text
from sopskit.registry.locate import registry_path
from sopskit.registry.schema import load_registry


@click.command("exposure")
@click.argument("key")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--since", metavar="REV", help="Only commits not reachable from REV.")
@click.option("--compromised", is_flag=True,
              help="Treat KEY as leaked: exit 1 while a value it read may be live.")
@click.option("--registry", type=click.Path(path_type=Path),
              help="Registry file (default keys/registry.yaml).")
@identity_options
@pass_app
def exposure_cmd(app: AppContext, key: str, fmt: str, since: str | None,  # noqa: PLR0917
                 compromised: bool, registry: Path | None, identity_files: tuple[Path, ...],
                 use_keyring: bool | None) -> int:
    """What KEY (a registry key name or a recipient) could read in the history of every
    branch and tag, and whether each value is unchanged, changed, removed or unknown today.

    Exit 1 when KEY is retired or revoked (or --compromised) and a value it read is
    unchanged or unknown.
    """
    path = registry_path(app.repo, registry)
    ref = key_ref(key, load_registry(path) if path else None)
    identities = identities_for_command(app, identity_files, use_keyring)
    result = exposure(app.repo, ref, identities=identities, since=since)
    click.echo(json.dumps(result.as_dict(), indent=2) if fmt == "json"
               else exposure_text(result), nl=fmt == "json")
    return int(result.exit_code(compromised=compromised))
