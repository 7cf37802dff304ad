"""Paths the file system refuses (a name too long for it, a loop of symlinks) are one line
naming the path, exit 3 (the tool could not do its job), never an internal error."""

from __future__ import annotations

import os

import pytest

from tests.integration.conftest import World

LONG = "x" * 5000


@pytest.mark.parametrize("args", [
    ("verify", LONG), ("audit", LONG), ("edit", LONG),
    ("keys", "list", "--registry", LONG), ("flux", "check", "--registry", LONG),
])
def test_a_name_too_long_for_the_system(world: World, args: tuple[str, ...]) -> None:
    world.write(".sops.yaml", "creation_rules:\n  - age: age1qqqq\n")
    done = world.cli(*args)
    assert done.code == 3, done.stderr
    assert done.stderr.startswith("sopskit: error: ") and "File name too long" in done.stderr
    assert len(done.stderr.splitlines()) == 1 and len(done.stderr) < 200


def test_a_loop_of_symlinks(world: World) -> None:
    os.symlink("loop.yaml", world.repo / "loop.yaml")
    world.write(".sops.yaml", "creation_rules:\n  - age: age1qqqq\n")
    for args in (("verify", "loop.yaml"), ("decrypt", "loop.yaml"), ("rekey", "loop.yaml")):
        done = world.cli(*args)
        assert done.code in (1, 2, 3), done.stderr  # rekey: that file's plan is an error
        said = done.stdout + done.stderr
        assert "internal error" not in said and "a loop of symbolic links" in said
