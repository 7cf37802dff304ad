"""`sopskit encrypt --all` / `encrypt -i DIR`: plan, progress and summary rendering."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import click

from sopskit.bulk.encrypt_all import Outcome, Planned, default_jobs, encrypt_planned, plan
from sopskit.cli.context import AppContext, note
from sopskit.cli.file_cmds import sops_for
from sopskit.engine import paths
from sopskit.errors import VerificationError
from sopskit.identity.model import Identities


def run_bulk(app: AppContext, roots: tuple[Path, ...], *, jobs: int | None, dry_run: bool,
             identities: Identities, allow_no_encrypted: bool = False) -> None:
    """Plan, then encrypt; VerificationError (exit 1) when any file failed."""
    targets = [paths.target(app.repo, r) for r in roots] or [app.repo]
    planned = plan(app.repo, targets)
    if not planned:
        note(app, "nothing to encrypt: every file that must be encrypted is")
        return
    click.echo(f"plan: {len(planned)} file(s) to encrypt")
    for item in planned:
        source = item.policy.rule.source.replace(f"{app.repo}/", "") if item.policy \
            else f"cannot: {item.problem}"
        click.echo(f"  {item.shown}  ({item.reason}; recipients: {source})")
    if dry_run:
        return
    outcomes = _run(app, planned, jobs or default_jobs(), identities, allow_no_encrypted)
    failed = [o for o in outcomes if not o.ok]
    for o in failed:
        click.echo(f"failed: {o.shown}: {o.detail}", err=True)
    click.echo(f"encrypted {len(outcomes) - len(failed)} of {len(outcomes)} file(s)"
               f"{f', {len(failed)} failed (the others are done)' if failed else ''}")
    if failed:
        raise VerificationError(f"{len(failed)} file(s) could not be encrypted",
                                check="encrypt")


def _run(app: AppContext, planned: list[Planned], jobs: int, identities: Identities,
         allow_no_encrypted: bool) -> list[Outcome]:
    sops = sops_for(app, identities)
    if not sys.stderr.isatty() or app.verbosity < 0:
        return encrypt_planned(planned, repo=app.repo, sops=sops, identities=identities,
                               jobs=jobs, allow_no_encrypted=allow_no_encrypted)
    lock = threading.Lock()
    with click.progressbar(length=len(planned), label="encrypting", file=sys.stderr) as bar:

        def tick(_: Outcome) -> None:
            with lock:  # outcomes arrive from the worker threads
                bar.update(1)

        return encrypt_planned(planned, repo=app.repo, sops=sops, identities=identities,
                               jobs=jobs, on_done=tick,
                               allow_no_encrypted=allow_no_encrypted)
