"""`sopskit doctor`: render sopskit.doctor.diagnose()."""

from __future__ import annotations

import json
from pathlib import Path

import click

from sopskit.cli.context import AppContext, pass_app
from sopskit.cli.identity_options import identities_for_command, identity_options
from sopskit.doctor import Diagnosis, Tool, diagnose
from sopskit.errors import BinaryError, SopskitError
from sopskit.identity.model import Identities


@click.command("doctor")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@identity_options
@pass_app
def doctor_cmd(app: AppContext, fmt: str, identity_files: tuple[Path, ...],
               use_keyring: bool | None) -> None:
    """Show the sops and gpg in use and the keys available to you (public parts only)."""
    try:  # a broken key file is what doctor is run to find: report it with the rest
        identities, problem = identities_for_command(app, identity_files, use_keyring), None
    except SopskitError as exc:
        identities, problem = Identities(), str(exc)
    found = diagnose(app.sops_binary, identities, problem)
    click.echo(json.dumps(found.as_dict(), indent=2) if fmt == "json" else render(found))
    if not found.sops.ok:
        raise BinaryError(found.sops.problem or "sops is not usable")
    if found.identity_problem:
        raise SopskitError(found.identity_problem)


def _tool(tool: Tool) -> str:
    if tool.problem:
        return f"{tool.name}: PROBLEM: {tool.problem}"
    return f"{tool.name}: {tool.version} ({tool.path})"


def render(d: Diagnosis) -> str:
    lines = [_tool(d.sops), _tool(d.gpg), "identities:"]
    if d.identity_problem:
        lines.append(f"  PROBLEM: {d.identity_problem}")
    for ident in d.identities.age:
        name = f" [{ident.name}]" if ident.name else ""
        lines.append(f"  age {ident.recipient}{name} from {ident.source}")
    if d.identities.gnupghome is not None:
        lines.append(f"  pgp: GnuPG home {d.identities.gnupghome}")
    if d.identities.empty and not d.identity_problem:
        lines.append("  none (set SOPS_AGE_KEY_FILE or SOPS_AGE_KEY, or GNUPGHOME for PGP)")
    lines += [f"  note: {n}" for n in d.identities.notes]
    lines.append(f"OS keyring: {d.keyring}")
    if d.leftovers:
        lines.append("plaintext left by killed runs (removed by the next edit, exec-file or "
                     "edit --resolve):")
        lines += [f"  {x.path} ({x.kind}, pid {x.pid} is gone, {x.files} file(s))"
                  for x in d.leftovers]
    return "\n".join(lines)
