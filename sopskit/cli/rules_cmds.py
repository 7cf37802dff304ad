"""`sopskit rules list|add|move|remove`: option parsing and output only."""

from __future__ import annotations

import json
from pathlib import Path

import click

from sopskit.cli.context import AppContext, note, pass_app
from sopskit.cli.registry_cmds import FORMAT, load_checked, locate, registry_option, warn
from sopskit.errors import UsageError
from sopskit.registry import report, ruleops
from sopskit.registry.coverage import repository_coverage
from sopskit.registry.resolve import today_utc
from sopskit.sopsfile.model import CRYPT_RULE_KINDS


@click.group("rules")
def rules_group() -> None:
    """The registry's path rules (first match wins): list, add, move, remove."""


@rules_group.command("list")
@click.option("--format", "fmt", type=FORMAT, default="text", show_default=True)
@registry_option
@pass_app
def rules_list(app: AppContext, fmt: str, registry_file: Path | None) -> None:
    """List the rules in matching order, with the secret files each one governs."""
    registry = load_checked(app, registry_file)
    cover, today = repository_coverage(app.repo, registry), today_utc()
    if fmt == "json":
        click.echo(json.dumps([report.rule_dict(registry, u, today) for u in cover.uses],
                              indent=2))
    else:
        click.echo(report.rules_table(registry, cover.uses, today))
    warn(app, cover.warnings())


def _clusters(values: tuple[str, ...]) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.strip() for v in values for n in v.split(",") if n.strip()))
    if not names:
        raise UsageError("--clusters needs at least one cluster name (or '*')")
    return names


def _crypt(options: dict[str, str | None], encrypt_all: bool) -> tuple[str, str | None] | None:
    given = [(k, v) for k, v in options.items() if v is not None]
    if len(given) + encrypt_all > 1:
        raise UsageError("give at most one crypt option (sops applies exactly one)")
    if encrypt_all:
        return "encrypted_regex", None  # a crypt field set to null: encrypt every value
    return given[0] if given else None


def _crypt_options(fn: click.decorators.FC) -> click.decorators.FC:
    for kind in CRYPT_RULE_KINDS:
        fn = click.option(f"--{kind.replace('_', '-')}", kind, metavar="VALUE",
                          help=f"sops' {kind} for this rule.")(fn)
    return fn


@rules_group.command("add")
@click.argument("path")
@click.option("--clusters", "clusters", multiple=True, required=True, metavar="A,B",
              help="Clusters that read the files ('*' for all; comma-separated or repeated).")
@click.option("--before", type=int, metavar="N", help="Insert before rule N.")
@click.option("--after", type=int, metavar="N", help="Insert after rule N (default: at the end).")
@_crypt_options
@click.option("--encrypt-all", is_flag=True,
              help="No crypt rule for this rule's files: every value encrypted.")
@click.option("--mac-only-encrypted/--no-mac-only-encrypted", default=None,
              help="Override the default mac_only_encrypted.")
@click.option("--description", help="Free text kept with the rule.")
@registry_option
@pass_app
def rules_add(app: AppContext, /, *, path: str, clusters: tuple[str, ...], before: int | None,
              after: int | None, encrypt_all: bool, mac_only_encrypted: bool | None,
              description: str | None, registry_file: Path | None, **crypt: str | None) -> None:
    """Add a path rule. Refused when it (or a rule after it) could then never match."""
    new = ruleops.NewRule(path, _clusters(clusters), _crypt(crypt, encrypt_all),
                          mac_only_encrypted, description)
    registry, index = ruleops.add_rule(locate(app, registry_file), new,
                                       ruleops.Position(before, after))
    warn(app, registry.warnings)
    note(app, f"added rules[{index}] {path}; run `sopskit config render` to update .sops.yaml")


@rules_group.command("move")
@click.argument("index", type=int)
@click.option("--before", type=int, metavar="N", help="Move it before rule N.")
@click.option("--after", type=int, metavar="N", help="Move it after rule N.")
@registry_option
@pass_app
def rules_move(app: AppContext, index: int, before: int | None, after: int | None,
               registry_file: Path | None) -> None:
    """Move rule INDEX (as `rules list` numbers it) before or after another."""
    registry, target = ruleops.move_rule(locate(app, registry_file), index,
                                         ruleops.Position(before, after))
    warn(app, registry.warnings)
    note(app, f"rules[{index}] is now rules[{target}]; run `sopskit config render`")


@rules_group.command("remove")
@click.argument("index", type=int)
@registry_option
@pass_app
def rules_remove(app: AppContext, index: int, registry_file: Path | None) -> None:
    """Delete rule INDEX (as `rules list` numbers it)."""
    registry, path = ruleops.remove_rule(locate(app, registry_file), index)
    warn(app, registry.warnings)
    note(app, f"removed rules[{index}] {path}; run `sopskit config render`")
