"""The progress counter: redrawn on a terminal, silent in CI or when not a terminal."""

from __future__ import annotations

import io

import pytest

from sopskit.cli.rekey_render import Progress
from sopskit.engine.rekey.apply import Outcome
from sopskit.engine.rekey.plan import FilePlan, Plan


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(stream: io.StringIO) -> str:
    progress = Progress(stream)
    progress.start(Plan((FilePlan("a", "yaml", "rotate"), FilePlan("b", "yaml", "rotate")),
                        "auto", "keys/registry.yaml"))
    progress(Outcome("a", "rotate", "done"))
    progress(Outcome("b", "rotate", "failed", "no identity"))
    progress.close()
    return stream.getvalue()


def test_terminal_shows_a_counter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert run(Terminal()) == "\rrekey 1/2\rrekey 2/2 (1 failed)\n"


def test_quiet_in_ci_and_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert run(Terminal()) == ""
    monkeypatch.delenv("CI")
    assert run(io.StringIO()) == ""
