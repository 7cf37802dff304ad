"""The global options every command sees, resolved once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import click

from sopskit.sopsfile.model import FORMATS

F = TypeVar("F", bound=Callable[..., object])


@dataclass(frozen=True)
class AppContext:
    repo: Path  # repository root (git top level of the working directory, or --repo)
    sops_binary: str | None  # --sops-binary / SOPSKIT_SOPS; None: the bundled one
    verbosity: int  # -1 quiet, 0 normal, 1+ verbose


def app(ctx: click.Context) -> AppContext:
    """The AppContext of the running command."""
    obj = ctx.find_root().obj
    assert isinstance(obj, AppContext)
    return obj


pass_app = click.make_pass_decorator(AppContext)


def note(app: AppContext, message: str) -> None:
    """A progress line on stderr (stdout carries data), unless -q."""
    if app.verbosity >= 0:
        click.echo(message, err=True)


def input_type_option(func: F) -> F:
    """`--input-type`: read FILE as this store whatever its extension (as sops does)."""
    return click.option("--input-type", type=click.Choice(FORMATS), default=None,
                        help="Read the file as this format (default: from its extension, "
                             "as sops does).")(func)
