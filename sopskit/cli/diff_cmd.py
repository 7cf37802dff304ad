"""`sopskit diff`: option parsing and rendering only."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sopskit.cli.context import AppContext, pass_app
from sopskit.cli.identity_options import identities_for_command, identity_options
from sopskit.errors import UsageError
from sopskit.review.diff import diff_pairs
from sopskit.review.render import RENDERERS
from sopskit.review.sides import changed_pairs


class _SplitAtDashes(click.Command):
    """`diff [REV_A [REV_B]] [-- PATH...]`: what follows `--` are paths (click would
    merge them with the revisions)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            cut = args.index("--")
            ctx.meta["diff_paths"] = tuple(args[cut + 1:])
            args = args[:cut]
        return super().parse_args(ctx, args)


@click.command("diff", cls=_SplitAtDashes)
@click.argument("revs", nargs=-1)
@click.option("--staged", "--cached", "staged", is_flag=True,
              help="Compare with the index (what `git commit` would record).")
@click.option("--format", "fmt", type=click.Choice(sorted(RENDERERS)), default="text",
              show_default=True, help="markdown: ready for a pull-request comment.")
@identity_options
@pass_app
@click.pass_context
def diff_cmd(ctx: click.Context, app: AppContext, revs: tuple[str, ...],  # noqa: PLR0917
             staged: bool, fmt: str, identity_files: tuple[Path, ...],
             use_keyring: bool | None) -> None:
    """What changed in sops files: key paths, recipients, crypt rule, data key.

    sopskit diff [REV_A [REV_B]] [-- PATH...]   Default: HEAD against the work tree.
    With a key that opens both versions, value changes are exact and shown as short
    fingerprints (never a value).
    """
    if len(revs) > 2:
        raise UsageError("give at most two revisions; paths go after `--`")
    pairs = changed_pairs(app.repo, *[*revs, None, None][:2], staged=staged,
                          paths=ctx.meta.get("diff_paths", ()))
    identities = identities_for_command(app, identity_files, use_keyring)
    sys.stdout.write(RENDERERS[fmt](diff_pairs(pairs, identities)))
