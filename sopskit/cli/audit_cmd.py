"""`sopskit audit` and `sopskit audit baseline create|update`: options and rendering only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from sopskit.audit import baseline
from sopskit.audit.finding import SEVERITY_NAMES, Severity
from sopskit.audit.report import json as json_report
from sopskit.audit.report import sarif, text
from sopskit.audit.result import AuditResult
from sopskit.audit.run import AuditOptions, collect, collect_history, coverage, run_audit
from sopskit.cli.context import AppContext, pass_app
from sopskit.cli.identity_options import identities_for_command, identity_options
from sopskit.cli.style import use_colour
from sopskit.errors import ConfigError, InputError, UsageError
from sopskit.fsio import write_atomic
from sopskit.identity.discover import discover
from sopskit.identity.model import Identities

PathArg = click.Path(path_type=Path)


def _identities(app: AppContext, files: tuple[Path, ...], keyring: bool | None) -> Identities:
    try:
        return identities_for_command(app, files, keyring)
    except ConfigError:  # an invalid registry is a finding of the audit, not a stop
        return discover(identity_files=files, use_keyring=keyring)


def _scope_options(func: Any) -> Any:
    for option in reversed((
        click.argument("paths", nargs=-1, type=PathArg),
        click.option("--staged", is_flag=True, help="Scan the index: what is about to be "
                     "committed."),
        click.option("--since", metavar="REV", help="Scan files changed since REV."),
        click.option("--max-data-key-age", type=click.IntRange(min=0), default=365,
                     show_default=True, metavar="DAYS", help="Data keys older than this are "
                     "findings."),
        click.option("--expiry-warning", type=click.IntRange(min=0), default=30,
                     show_default=True, metavar="DAYS", help="Warn about keys expiring "
                     "within DAYS."),
        click.option("--jobs", type=click.IntRange(min=1), default=None, metavar="N",
                     help="Worker processes (default: one per CPU for large scans)."),
        click.option("--registry", type=PathArg, default=None, help="Registry file "
                     "(default: keys/registry.yaml; env SOPSKIT_REGISTRY)."),
        identity_options,
    )):
        func = option(func)
    return func


def _options(app: AppContext, kw: dict[str, Any], **extra: Any) -> AuditOptions:
    return AuditOptions(
        repo=app.repo, paths=kw["paths"], staged=kw["staged"], since=kw["since"],
        max_data_key_age=kw["max_data_key_age"], expiry_warning=kw["expiry_warning"],
        jobs=kw["jobs"], registry=kw["registry"],
        identities=_identities(app, kw["identity_files"], kw["use_keyring"]), **extra)


class _AuditCommand(click.Command):
    """`audit [PATH...]`, or `audit baseline ...` routed to the baseline group (a group
    cannot take PATH arguments and subcommands at once)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args[:1] == ["baseline"]:
            ctx.meta["sopskit.audit.baseline"] = args[1:]
            return []
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        rest = ctx.meta.pop("sopskit.audit.baseline", None)
        if rest is not None:
            return baseline_group.main(rest, prog_name="sopskit audit baseline",
                                       standalone_mode=False, obj=ctx.find_root().obj)
        return super().invoke(ctx)


@click.command("audit", cls=_AuditCommand)
@_scope_options
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text",
              show_default=True)
@click.option("-o", "--output", type=PathArg, help="Write the report here (stdout: summary).")
@click.option("--baseline", "baseline_file", type=PathArg, default=None,
              help=f"Accepted findings (default: {baseline.DEFAULT_NAME} when present).")
@click.option("--fail-on", type=click.Choice(SEVERITY_NAMES), default="high",
              show_default=True, help="Exit 1 when a finding is at least this severe.")
@click.option("--history", is_flag=True, help="Scan every blob of every branch and tag for "
              "plaintext ever committed (--since REV: only commits after REV).")
@pass_app
def audit_cmd(app: AppContext, /, fmt: str, output: Path | None, baseline_file: Path | None,
              fail_on: str, **kw: Any) -> None:
    """Find plaintext secrets and rotation gaps (recipients, stale data keys, expiring
    keys, integrity, config drift). Also: `sopskit audit baseline create|update`.

    Exit 0 when no finding reaches --fail-on, 1 when one does, 2 usage, 3 operational.
    """
    history = kw.pop("history")
    result = run_audit(_options(app, kw, baseline=baseline_file, history=history))
    _emit(result, fmt, output)
    if result.fails(Severity.parse(fail_on)):
        raise click.exceptions.Exit(1)


def _emit(result: AuditResult, fmt: str, output: Path | None) -> None:
    if fmt == "json":
        body = json_report.render(result)
    elif fmt == "sarif":
        body = sarif.render(result)
    else:
        body = text.render(result, colour=output is None and use_colour())
    if output is None:
        click.echo(body, nl=False)
        return
    _write_file(output, body, "the report")
    click.echo(text.summary(result), err=True)


def _write_file(path: Path, body: str, what: str) -> None:
    """A regular file atomically (a reader never sees half of it); /dev/stdout, a FIFO
    and the like are written through. One line naming the file on failure."""
    try:
        if path.exists() and not path.is_file():
            path.write_text(body, encoding="utf-8")
        else:
            write_atomic(path.resolve(), body)  # a symlink keeps pointing at the new file
    except OSError as exc:
        raise InputError(f"cannot write {what}: {exc.strerror}", path=path) from None


@click.group("baseline", context_settings={"help_option_names": ["-h", "--help"]})
def baseline_group() -> None:
    """Accept the current findings (keyed by path, rule and fingerprint)."""


def _baseline_options(func: Any) -> Any:
    func = click.option("-o", "--output", type=PathArg, default=None,
                        help=f"Baseline file (default: {baseline.DEFAULT_NAME}).")(func)
    func = click.option("--history", is_flag=True, help="Accept the findings of "
                        "`audit --history` (plaintext ever committed).")(func)
    return _scope_options(func)


def _write(app: AppContext, kw: dict[str, Any], output: Path | None,
           previous: baseline.Baseline | None) -> None:
    target = output or app.repo / baseline.DEFAULT_NAME
    history = kw.pop("history")
    options = _options(app, kw, history=history)
    got = collect_history(options) if history else collect(options)
    built = baseline.build(got.findings, previous, covered=coverage(options, got))
    _write_file(target, baseline.dump(built), "the baseline")
    click.echo(f"{len(built.entries)} finding(s) accepted in {target}", err=True)


@baseline_group.command("create")
@_baseline_options
@pass_app
def baseline_create(app: AppContext, /, output: Path | None, **kw: Any) -> None:
    """Write a baseline accepting every current finding."""
    target = output or app.repo / baseline.DEFAULT_NAME
    if target.exists():
        raise UsageError(f"{target} exists: use `sopskit audit baseline update`")
    _write(app, kw, output, None)


@baseline_group.command("update")
@_baseline_options
@pass_app
def baseline_update(app: AppContext, /, output: Path | None, **kw: Any) -> None:
    """Re-accept the current findings, keeping reasons and expiry dates of entries that
    still match and dropping entries that no longer do."""
    target = output or app.repo / baseline.DEFAULT_NAME
    _write(app, kw, output, baseline.load(target) if target.exists() else None)
