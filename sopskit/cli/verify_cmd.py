"""`sopskit verify`: option parsing and rendering only.

Its own module so that a verify (pre-commit, CI over hundreds of files) imports neither the
encrypt/edit machinery nor the registry: start-up is most of its cost on small repositories.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from sopskit.cli.context import AppContext, input_type_option, note, pass_app
from sopskit.cli.identity_options import identities_for_command, identity_options
from sopskit.cli.style import paint, use_colour
from sopskit.engine.verify_files import outcome, verify_paths
from sopskit.errors import ExitCode
from sopskit.sopsfile.model import Format
from sopskit.sopsfile.verify import VerifyReport

PathArg = click.Path(path_type=Path)


@click.command("verify")
@click.argument("files", nargs=-1, required=True, type=PathArg)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--require-mac", is_flag=True, help="Fail files whose MAC cannot be checked.")
@click.option("--skip-non-sops", is_flag=True,
              help="Leave out named files that hold no sops metadata (as in directories).")
@input_type_option
@identity_options
@pass_app
def verify_cmd(app: AppContext, files: tuple[Path, ...], fmt: str,  # noqa: PLR0917
               require_mac: bool, skip_non_sops: bool, input_type: Format | None,
               identity_files: tuple[Path, ...], use_keyring: bool | None) -> None:
    """Verify sops FILES natively (structure, values, MAC when a key is available).

    Directories are searched for sops files (by content). Exit 1 when any file fails, 3
    when a file cannot be read at all.
    """
    identities = identities_for_command(app, identity_files, use_keyring)
    reports = verify_paths(app.repo, files, identities, require_mac=require_mac,
                           input_type=input_type, skip_non_sops=skip_non_sops)
    click.echo(render_json(reports) if fmt == "json"
               else render_text(reports, app.verbosity, colour=use_colour()))
    if not reports and not skip_non_sops:
        note(app, "no sops files found in " + ", ".join(map(str, files)))
    code = outcome(reports)
    if code != ExitCode.OK:
        raise click.exceptions.Exit(int(code))


def render_json(reports: list[VerifyReport]) -> str:
    return json.dumps({"version": 1, "files": [r.as_dict() for r in reports]}, indent=2)


def render_text(reports: list[VerifyReport], verbosity: int, *, colour: bool = False) -> str:
    lines = []
    ok, fail = paint("ok", "green", colour=colour), paint("FAIL", "red", colour=colour, bold=True)
    for r in reports:
        if r.ok and verbosity >= 0:
            lines.append(f"{ok}    {r.path}" + ("" if r.mac_checked else "  (MAC not checked)"))
        if verbosity > 0:
            lines.extend(f"note  {r.path}: {n}" for n in r.notes)
        for p in r.problems:
            where = "".join(f":{x}" for x in (p.line,) if x) + (f": {p.key_path}"
                                                                  if p.key_path else "")
            lines.append(f"{fail}  {r.path}{where}: [{p.check}] {p.message}")
    failed = sum(not r.ok for r in reports)
    unchecked = sum(r.ok and not r.mac_checked for r in reports)
    # With -q the per-file "(MAC not checked)" is hidden: the summary must still say it.
    lines.append(f"{len(reports) - failed} ok, {failed} failed" + (
        f"; MAC not checked for {unchecked} (no key of yours; --require-mac makes that a "
        "failure)" if unchecked else ""))
    return "\n".join(lines)


