"""`sopskit rekey`, `sopskit runbook rotate-key`, `sopskit flux secret`: options and output."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sopskit.cli import rekey_render as render
from sopskit.cli.context import AppContext, pass_app
from sopskit.cli.flux_cmd import flux_check_cmd
from sopskit.cli.identity_options import identities_for_command, identity_options
from sopskit.cli.rekey_ages import audit_ages
from sopskit.engine import paths
from sopskit.engine.rekey import run
from sopskit.engine.rekey.apply import Context, default_jobs
from sopskit.engine.rekey.desired import Desired, load_desired, require_registry
from sopskit.engine.rekey.plan import DEFAULT_MAX_AGE_DAYS, Plan, RotateMode, make_plan
from sopskit.errors import ExitCode, UsageError
from sopskit.flux.check import secret_ref
from sopskit.flux.decryption_secret import NAMESPACE, SECRET_NAME, flux_secret, write
from sopskit.runbook.render import to_json, to_text
from sopskit.runbook.rotate import rotate_key_runbook
from sopskit.sops.binary import locate
from sopskit.sops.runner import Sops

PathArg = click.Path(path_type=Path)


@click.command("rekey")
@click.argument("paths", nargs=-1, type=PathArg)
@click.option("--apply", "do_apply", is_flag=True, help="Carry the plan out (default: show it).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Files re-keyed in parallel (default: the number of cores).")
@click.option("--rotate-data-key", "mode", type=click.Choice(["auto", "always", "never"]),
              default="auto", show_default=True,
              help="auto: new data key when a recipient is removed or the key is too old.")
@click.option("--max-data-key-age", "max_age", type=click.IntRange(min=0),
              default=DEFAULT_MAX_AGE_DAYS, show_default=True, metavar="DAYS",
              help="auto: also rotate data keys older than this (age from git history).")
@click.option("--resume", is_flag=True, help="Finish an interrupted --apply.")
@click.option("--allow-less-encryption", is_flag=True,
              help="Apply re-encryptions that leave today's encrypted values in plaintext.")
@click.option("--registry", type=PathArg, help="Registry file (default keys/registry.yaml).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@identity_options
@pass_app
def rekey_cmd(app: AppContext, paths: tuple[Path, ...], do_apply: bool,  # noqa: PLR0917
              jobs: int | None, mode: RotateMode, max_age: int, resume: bool,
              allow_less_encryption: bool, registry: Path | None, fmt: str,
              identity_files: tuple[Path, ...], use_keyring: bool | None) -> int:
    """Make every sops file readable by exactly the keys the registry names for its path.

    Shows the plan; with --apply, re-keys (and rotates data keys where a recipient goes
    away), verifies each file natively and prints the proof. Exit 1 if any file failed.
    """
    desired = load_desired(app.repo, registry)
    if not (do_apply or resume):
        return _show_plan(app, make_plan(app.repo, paths, desired, mode, max_age_days=max_age,
                                         age_of=audit_ages(app.repo, None)), fmt)
    if resume and paths:
        raise UsageError("--resume takes no paths: it finishes the interrupted run's files")
    identities = identities_for_command(app, identity_files, use_keyring)
    ctx = Context(app.repo, Sops(locate(app.sops_binary), identities), identities,
                  allow_less_encryption)
    options = run.Options(mode, jobs or default_jobs(), allow_less_encryption, max_age,
                          audit_ages(app.repo, identities))
    result = _run(app, paths, desired, ctx, options, resume=resume)
    click.echo(render.dumps(render.result_dict(result)) if fmt == "json"
               else render.result_text(result, desired.describe_text,
                                       verbose=app.verbosity > 0))
    return int(result.exit_code)


def _show_plan(app: AppContext, plan: Plan, fmt: str) -> int:
    if run.pending(app.repo):
        click.echo("sopskit: an interrupted `rekey --apply` has files left: "
                   "`sopskit rekey --resume` finishes it", err=True)
    click.echo(render.dumps(render.plan_dict(plan)) if fmt == "json"
               else render.plan_text(plan))
    return int(ExitCode.FINDINGS if plan.errors else ExitCode.OK)


def _run(app: AppContext, paths: tuple[Path, ...], desired: Desired, ctx: Context,
         options: run.Options, *, resume: bool) -> run.Result:
    """Apply or resume with a progress counter on the terminal."""
    progress = render.Progress(enabled=app.verbosity >= 0)
    try:
        if resume:
            return run.resume(app.repo, desired, ctx, jobs=options.jobs,
                              on_outcome=progress, on_plan=progress.start)
        return run.apply(app.repo, paths, desired, ctx, options=options,
                         on_outcome=progress, on_plan=progress.start)
    finally:
        progress.close()


@click.group("runbook")
def runbook_group() -> None:
    """Step-by-step procedures, with the exact commands for this repository."""


@runbook_group.command("rotate-key")
@click.argument("name")
@click.option("--to", "new", metavar="NEW", help="Name of the new key (default NAME-YYYYMM).")
@click.option("--registry", type=PathArg, help="Registry file (default keys/registry.yaml).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              help="json: the steps with their commands and expected outcomes, for automation.")
@identity_options
@pass_app
def rotate_key_cmd(app: AppContext, name: str, new: str | None,  # noqa: PLR0917
                   registry: Path | None, fmt: str, identity_files: tuple[Path, ...],
                   use_keyring: bool | None) -> None:
    """The ordered steps to replace key NAME without breaking any cluster. For a revoked
    key it starts with the values to change: those it could ever read that are still live
    (`sopskit exposure`; an identity that opens the files tells unchanged from changed)."""
    reg = require_registry(app.repo, registry)
    identities = (identities_for_command(app, identity_files, use_keyring)
                  if name in reg.keys and reg.keys[name].status == "revoked" else None)
    book = rotate_key_runbook(app.repo, reg, name, new, identities=identities)
    click.echo(to_json(book) if fmt == "json" else to_text(book), nl=fmt == "json")


@click.group("flux")
def flux_group() -> None:
    """Flux: the delivery check and the cluster decryption Secret."""


flux_group.add_command(flux_check_cmd)


@flux_group.command("secret")
@click.argument("cluster")
@click.option("--out", type=PathArg, help="Write the encrypted manifest here (else stdout).")
@click.option("--registry", type=PathArg, help="Registry file (default keys/registry.yaml).")
@identity_options
@pass_app
def flux_secret_cmd(app: AppContext, cluster: str, out: Path | None,  # noqa: PLR0917
                    registry: Path | None, identity_files: tuple[Path, ...],
                    use_keyring: bool | None) -> None:
    """The decryption Secret for CLUSTER, encrypted to the admin keys, ready to commit.

    Its entries are `<key>.agekey` (`<key>.asc` for PGP); its name and namespace are the
    ones the cluster's Flux Kustomizations reference in `decryption.secretRef` (default
    sops-age in flux-system).
    """
    identities = identities_for_command(app, identity_files, use_keyring)
    loaded = require_registry(app.repo, registry)
    name, namespace = secret_ref(app.repo, cluster, loaded) or (SECRET_NAME, NAMESPACE)
    secret = flux_secret(loaded, cluster, identities, Sops(locate(app.sops_binary), identities),
                         name, namespace)
    for skipped in secret.skipped:
        click.echo(f"sopskit: skipped {skipped}", err=True)
    if out is None:
        sys.stdout.buffer.write(secret.ciphertext)
        sys.stdout.buffer.flush()
        return
    write(secret, paths.target(app.repo, out))
    if app.verbosity >= 0:
        click.echo(f"wrote {paths.display(app.repo, paths.target(app.repo, out))}: Secret "
                   f"{secret.namespace}/{secret.name} with {', '.join(secret.included)}, "
                   f"encrypted to {', '.join(secret.admins)}", err=True)
