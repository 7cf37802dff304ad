"""Colour on a terminal, and only there: https://no-color.org (NO_COLOR set to anything but
the empty string turns it off), never when the output is a pipe or a file."""

from __future__ import annotations

import os
import sys
from typing import TextIO

import click


def use_colour(stream: TextIO | None = None) -> bool:
    """Whether to colour what goes to `stream` (default: stdout)."""
    if os.environ.get("NO_COLOR", ""):
        return False
    target = stream if stream is not None else sys.stdout
    try:
        return bool(target.isatty())
    except ValueError:  # a closed stream
        return False


def paint(text: str, fg: str, *, colour: bool, bold: bool = False) -> str:
    return click.style(text, fg=fg, bold=bold) if colour else text
