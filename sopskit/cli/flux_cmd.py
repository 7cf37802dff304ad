"""`sopskit flux check`: options and rendering only."""

from __future__ import annotations

from pathlib import Path

import click

from sopskit.cli.context import AppContext, pass_app
from sopskit.flux.check import CheckOptions, flux_check
from sopskit.flux.report import render_json, render_sarif, render_text
from sopskit.registry.locate import registry_path
from sopskit.registry.schema import load_registry

PathArg = click.Path(path_type=Path)


@click.command("check")
@click.option("--cluster", "clusters", multiple=True, metavar="NAME",
              help="Check only this cluster (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text",
              show_default=True)
@click.option("--registry", type=PathArg, help="Registry file (default keys/registry.yaml "
              "when present): the clusters' keys are then exactly the registry's.")
@click.option("--tracked", is_flag=True, help="Check each cluster at the revision it "
              "reconciles (its branch tip or resolved tag, from git objects) instead of the "
              "working tree.")
@pass_app
def flux_check_cmd(app: AppContext, clusters: tuple[str, ...], fmt: str,
                   registry: Path | None, tracked: bool) -> None:
    """Can every cluster decrypt exactly what its Flux Kustomizations apply?

    Exit 0 when there is no delivery finding, 1 with findings, 2 usage, 3 operational.
    """
    path = registry_path(app.repo, registry)
    loaded = load_registry(path) if path is not None else None
    report = flux_check(CheckOptions(app.repo, clusters, loaded, tracked))
    render = {"json": render_json, "sarif": render_sarif}.get(fmt, render_text)
    click.echo(render(report), nl=False)
    if report.findings:
        raise click.exceptions.Exit(1)
