"""The list of top-level commands. Each command module adds its commands here."""

from __future__ import annotations

import click

ALL: list[click.Command] = []

from sopskit.cli.identity_cmds import identity_group  # noqa: E402

ALL.append(identity_group)
