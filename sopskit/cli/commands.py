"""The list of top-level commands. Each command module adds its commands here."""

from __future__ import annotations

import click

ALL: list[click.Command] = []
