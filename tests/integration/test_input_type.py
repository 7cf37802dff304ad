"""`--input-type` reads a file as the named store whatever its extension, as sops does:
a dotenv sops file named `*.txt` (binary by its extension)."""

from __future__ import annotations

from tests.helpers import run_sops
from tests.integration.conftest import World

PLAIN = "DB_PASSWORD=marker-input-type-1\nLOG_LEVEL=info\n"


def make(world: World) -> None:
    done = run_sops("encrypt", "--input-type", "dotenv", "--output-type", "dotenv",
                    "--age", world.key.recipient, "--filename-override", "x.env",
                    env={}, cwd=world.repo, input=PLAIN.encode())
    assert done.returncode == 0, done.stderr
    world.write("secrets.txt", done.stdout)


def test_verify_and_decrypt_with_input_type(world: World) -> None:
    make(world)
    wrong = world.cli("verify", "secrets.txt")  # read as binary: not a sops file of that kind
    assert wrong.code != 0
    ok = world.cli("verify", "--require-mac", "--input-type", "dotenv", "secrets.txt")
    assert ok.code == 0, ok.stdout + ok.stderr
    native = world.cli("decrypt", "--input-type", "dotenv", "secrets.txt")
    assert native.code == 0 and native.stdout == PLAIN
    via_sops = world.cli("decrypt", "--engine", "sops", "--input-type", "dotenv", "secrets.txt")
    assert via_sops.code == 0 and via_sops.stdout == PLAIN


def test_unknown_input_type_is_a_usage_error(world: World) -> None:
    make(world)
    done = world.cli("verify", "--input-type", "toml", "secrets.txt")
    assert done.code == 2 and "toml" in done.stderr
