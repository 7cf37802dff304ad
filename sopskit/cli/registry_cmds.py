"""`sopskit init`, `keys ...`, `config render`, `recipients`: option parsing and output only."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

from sopskit.cli.context import AppContext, note, pass_app
from sopskit.cli.context import app as app_of
from sopskit.errors import InputError, UsageError
from sopskit.identity.manage import KeyringDestination
from sopskit.registry import keyops, report, scaffold
from sopskit.registry.coverage import expand_targets, repository_coverage
from sopskit.registry.locate import registry_path
from sopskit.registry.model import Registry
from sopskit.registry.private import FileDestination, PrivateDestination
from sopskit.registry.resolve import today_utc
from sopskit.registry.schema import load_registry
from sopskit.registry.sops_config import render, source_name, write_path

F = TypeVar("F", bound=Callable[..., Any])
FORMAT = click.Choice(["text", "json"])


def registry_option(fn: F) -> F:
    return click.option(
        "--registry", "registry_file", type=click.Path(path_type=Path, dir_okay=False),
        help="Registry file (default: keys/registry.yaml; env SOPSKIT_REGISTRY).")(fn)


def locate(app: AppContext, explicit: Path | None) -> Path:
    path = registry_path(app.repo, explicit)
    if path is None:
        raise InputError("no key registry (keys/registry.yaml); run `sopskit init` or pass"
                         " --registry FILE", path=app.repo)
    return path


def load_checked(app: AppContext, explicit: Path | None) -> Registry:
    registry = load_registry(locate(app, explicit))
    warn(app, registry.warnings)
    return registry


def warn(app: AppContext, warnings: tuple[str, ...] | list[str]) -> None:
    if app.verbosity >= 0:
        for warning in warnings:
            click.echo(f"sopskit: warning: {warning}", err=True)


def _date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--expires {value!r}: not a date (YYYY-MM-DD)") from None


# --- init ----------------------------------------------------------------------------------

@click.command("init")
@click.option("--cluster", "clusters", multiple=True, metavar="NAME",
              help="A cluster (repeatable; default: the directories under clusters/).")
@pass_app
def init_cmd(app: AppContext, clusters: tuple[str, ...]) -> None:
    """Scaffold keys/registry.yaml and .sops.yaml in the repository."""
    reg, config, registry = scaffold.init(app.repo, clusters)
    note(app, f"wrote {reg} (clusters: {', '.join(registry.clusters)}) and {config}")
    for line in repository_coverage(app.repo, registry).uncovered_lines():
        note(app, line)
    note(app, "next: sopskit keys generate NAME --type age --cluster '*' --private-out FILE")


# --- keys ----------------------------------------------------------------------------------

@click.group("keys")
def keys_group() -> None:
    """The keys of the registry: list, show, add, generate, retire, revoke, remove."""


@keys_group.command("list")
@click.option("--format", "fmt", type=FORMAT, default="text", show_default=True)
@registry_option
@pass_app
def keys_list(app: AppContext, fmt: str, registry_file: Path | None) -> None:
    """List the keys with their status (expired keys show as expired)."""
    registry, today = load_checked(app, registry_file), today_utc()
    if fmt == "json":
        click.echo(json.dumps([report.key_dict(k, today) for k in registry.keys.values()],
                              indent=2))
    else:
        click.echo(report.keys_table(registry, today))


@keys_group.command("show")
@click.argument("name")
@click.option("--format", "fmt", type=FORMAT, default="text", show_default=True)
@registry_option
@pass_app
def keys_show(app: AppContext, name: str, fmt: str, registry_file: Path | None) -> None:
    """Show one key."""
    registry, today = load_checked(app, registry_file), today_utc()
    key = registry.keys.get(name)
    if key is None:
        raise UsageError(f"the registry has no key {name!r}", path=registry.path)
    click.echo(json.dumps(report.key_dict(key, today), indent=2) if fmt == "json"
               else report.key_text(key, today))


def _meta_options(fn: F) -> F:
    fn = click.option("--expires", metavar="YYYY-MM-DD", help="Expiry date.")(fn)
    fn = click.option("--owner", help="Who owns the key (team or person).")(fn)
    return click.option("--cluster", "clusters", multiple=True, required=True, metavar="C",
                        help="A cluster the key serves ('*' for all; repeatable).")(fn)


@keys_group.command("add")
@click.argument("name")
@click.option("--age", "age", metavar="RECIPIENT", help="An age public key (age1...).")
@click.option("--pgp-file", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="An armored PGP public key file (copied to pgp/NAME.asc).")
@click.option("--fingerprint", help="A PGP fingerprint (40 hex digits).")
@_meta_options
@registry_option
@pass_app
def keys_add(app: AppContext, *, name: str, age: str | None, pgp_file: Path | None,
             fingerprint: str | None, clusters: tuple[str, ...], owner: str | None,
             expires: str | None, registry_file: Path | None) -> None:
    """Register a public key. Comments and layout of the registry are kept."""
    source = keyops.KeySource(age, pgp_file, fingerprint)
    meta = keyops.KeyMeta(clusters, owner, _date(expires))
    registry = keyops.add_key(locate(app, registry_file), name, source, meta)
    warn(app, registry.warnings)
    note(app, f"added key {name}; run `sopskit config render` to update .sops.yaml")


@keys_group.command("generate")
@click.argument("name")
@click.option("--type", "kind", type=click.Choice(["age", "pgp"]), required=True)
@_meta_options
@click.option("--private-out", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the private key to this new file (mode 0600; never overwritten).")
@click.option("--store", type=click.Choice(["keyring"]),
              help="Keep the private key (age only) in the OS keyring, named NAME.")
@click.option("--print-private", is_flag=True, help="Print the PRIVATE key on stdout.")
@registry_option
@pass_app
def keys_generate(app: AppContext, *, name: str, kind: str, clusters: tuple[str, ...],
                  owner: str | None, expires: str | None, private_out: Path | None,
                  store: str | None, print_private: bool, registry_file: Path | None) -> None:
    """Create a key pair, register its public part, and store the private part."""
    dest = _private_destination(app, kind, private_out, store, print_private)
    meta = keyops.KeyMeta(clusters, owner, _date(expires))
    made = keyops.generate_key(locate(app, registry_file), name, kind, meta, dest)
    note(app, f"generated {kind} key {name}: {made.public}; {made.stored}")
    if print_private:
        note(app, "sopskit: warning: stdout holds a PRIVATE key")
        click.echo(made.secret, nl=False)
    else:
        click.echo(made.public)


def _private_destination(app: AppContext, kind: str, private_out: Path | None,
                         store: str | None, print_private: bool) -> PrivateDestination | None:
    if private_out is not None and store is not None:
        raise UsageError("give either --private-out FILE or --store keyring, not both")
    if store == "keyring":
        if kind != "age":
            raise UsageError("--store keyring keeps age identities only; use --private-out "
                             "FILE for a PGP key (then import it into gpg)")
        return KeyringDestination()
    if private_out is not None:
        return FileDestination(private_out, app.repo)
    if not print_private:
        raise UsageError("say where the private key goes: --private-out FILE, --store keyring"
                         " (or --print-private)")
    return None


def _status_command(status: str, verb: str) -> click.Command:
    @click.command(verb)
    @click.argument("name")
    @registry_option
    @pass_app
    def cmd(app: AppContext, name: str, registry_file: Path | None) -> None:
        keyops.set_status(locate(app, registry_file), name, status)
        note(app, f"key {name} is now {status}; run `sopskit config render`, then rekey"
             " the files it can read")

    cmd.help = f"Mark a key {status}: it stops being a recipient."
    return cmd


keys_group.add_command(_status_command("retired", "retire"))
keys_group.add_command(_status_command("revoked", "revoke"))


@keys_group.command("remove")
@click.argument("name")
@click.option("--force", is_flag=True, help="Remove even while rules or files need the key.")
@registry_option
@pass_app
def keys_remove(app: AppContext, name: str, force: bool, registry_file: Path | None) -> None:
    """Delete a key from the registry (refused while a rule or a sops file needs it)."""
    needed = keyops.remove_key(locate(app, registry_file), app.repo, name, force=force)
    if needed:
        warn(app, [f"removed {name} although still needed by: {'; '.join(needed)}"])
    note(app, f"removed key {name}")


# --- config render -------------------------------------------------------------------------

@click.group("config")
def config_group() -> None:
    """The .sops.yaml generated from the registry."""


@config_group.command("render")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 with a diff on drift.")
@click.option("--stdout", "to_stdout", is_flag=True, help="Print instead of writing.")
@registry_option
@click.pass_context
def config_render(ctx: click.Context, check: bool, to_stdout: bool,
                  registry_file: Path | None) -> None:
    """Write .sops.yaml at the repository root from the registry."""
    app = app_of(ctx)
    registry = load_checked(app, registry_file)
    text = render(registry, source=source_name(registry))
    target = write_path(app.repo)
    if to_stdout:
        click.echo(text, nl=False)
        return
    current = target.read_text(encoding="utf-8") if target.is_file() else None
    if check:
        diff = report.drift(text, current, target.name)
        if diff:
            click.echo(diff, nl=False)
            note(app, f"{target} differs from the registry; run `sopskit config render`")
            ctx.exit(1)
        note(app, f"{target} is up to date")
        return
    from sopskit.fsio import write_atomic

    write_atomic(target, text)
    note(app, f"wrote {target}" + ("" if current != text else " (unchanged)"))


# --- recipients ----------------------------------------------------------------------------

def _relpath(repo: Path, path: Path) -> str:
    absolute = Path(os.path.normpath(Path.cwd() / path))
    root = Path(os.path.normpath(repo.absolute()))
    try:
        return absolute.relative_to(root).as_posix()
    except ValueError:
        try:
            return absolute.relative_to(repo.resolve()).as_posix()
        except ValueError:
            raise UsageError("not inside the repository", path=path) from None


@click.command("recipients")
@click.argument("paths", nargs=-1, required=True)
@click.option("--explain", is_flag=True, help="Also the rules tried and the keys left out.")
@click.option("--format", "fmt", type=FORMAT, default="text", show_default=True)
@registry_option
@click.pass_context
def recipients_cmd(ctx: click.Context, paths: tuple[str, ...], explain: bool, fmt: str,
                   registry_file: Path | None) -> None:
    """Who must be able to read each PATH, by the registry (exit 1 if a file has no rule).

    A PATH may be a file, a directory (its secret files) or a quoted glob ('apps/**/*.yaml').
    """
    app = app_of(ctx)
    registry = load_checked(app, registry_file)
    targets = expand_targets(app.repo, registry, paths,
                             lambda arg: _relpath(app.repo, Path(arg)))
    for arg in targets.empty:
        note(app, f"{arg}: no secret files there")
    resolved = report.resolve_all(registry, targets.files)
    for _rel, res in resolved:
        warn(app, res.warnings if res else ())
    click.echo(json.dumps(report.resolutions_dicts(resolved), indent=2) if fmt == "json"
               else report.resolutions_text(resolved, explain))
    if any(res is None for _rel, res in resolved):
        ctx.exit(1)
