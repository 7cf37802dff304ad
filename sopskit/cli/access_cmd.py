"""`sopskit access`: who can read which sops file, as text, JSON or one HTML page."""

from __future__ import annotations

import json
from pathlib import Path

import click

from sopskit.access import html, text
from sopskit.access.matrix import build, scope
from sopskit.cli.context import AppContext, note, pass_app
from sopskit.fsio import write_atomic
from sopskit.registry.locate import registry_path
from sopskit.registry.schema import load_registry


@click.command("access")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--rev", metavar="REV", help="Read the files at this commit (default: the "
              "working tree).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False),
              help="Write here instead of stdout.")
@click.option("--registry", type=click.Path(path_type=Path),
              help="Registry file (default keys/registry.yaml; without one, .sops.yaml).")
@pass_app
def access_cmd(app: AppContext, paths: tuple[Path, ...], rev: str | None,  # noqa: PLR0917
               fmt: str, out: Path | None, registry: Path | None) -> None:
    """The access matrix: every sops file (under PATHS) against every key, grouped by
    cluster: who reads it now, who should by the registry, and what is missing,
    unauthorised, retired, revoked or expired. Needs no private key."""
    reg = registry_path(app.repo, registry)
    relative = [scope(app.repo, p, rev=rev) for p in paths]
    matrix = build(app.repo, relative, registry=load_registry(reg) if reg else None, rev=rev)
    rendered = (json.dumps(matrix.as_dict(), indent=2) + "\n" if fmt == "json"
                else html.render(matrix) if fmt == "html" else text.render(matrix))
    if out is None:
        click.echo(rendered, nl=False)
        return
    write_atomic(out, rendered)
    note(app, f"wrote {out}: {len(matrix.files)} files x {len(matrix.keys)} keys")
