"""Key sources an attacker (or an accident) controls: a FIFO, a device or a gigabyte file
as the identity file, and a SOPS_AGE_KEY_CMD that prints without end. Each is one line and
exit 3 in bounded time and memory (issue 9, section 3)."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import pytest

from tests.fuzz.mutator import VECTORS
from tests.helpers import clean_env, run_cli

SOPS_FILE = VECTORS / "seed.yaml"


def _decrypt(*args: str, env: dict[str, str]) -> tuple[int, str]:
    done = run_cli("decrypt", "--no-keyring", *args, str(SOPS_FILE), env=clean_env(env),
                   timeout=120)
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    return done.code, done.stderr


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "keys.txt"
    os.mkfifo(path)  # nobody ever writes: reading it would block forever
    return path


def test_identity_fifo_is_refused_without_blocking(fifo: Path) -> None:
    code, err = _decrypt("--identity", str(fifo), env={})
    assert code == 3 and "identity file is not a regular file" in err and str(fifo) in err


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_key_file_device_is_refused(device: str) -> None:
    code, err = _decrypt(env={"SOPS_AGE_KEY_FILE": device})
    assert code == 3 and "not a regular file" in err


def test_key_file_fifo_in_env_is_refused(fifo: Path) -> None:
    code, err = _decrypt(env={"SOPS_AGE_KEY_FILE": str(fifo)})
    assert code == 3 and "not a regular file" in err


def test_gigabyte_key_file_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "keys.txt"
    with big.open("wb") as fh:  # sparse: 3 GiB on paper, nothing on disk
        fh.truncate(3 << 30)
    code, err = _decrypt("--identity", str(big), env={})
    assert code == 3 and "identity file is too large (the limit is 1024 KiB)" in err


def test_key_cmd_printing_without_end_is_stopped() -> None:
    endless = f"{shlex.quote(sys.executable)} -c " + shlex.quote(
        "import sys\nwhile True: sys.stdout.write('AGE-SECRET-KEY-1' * 4096)")
    code, err = _decrypt(env={"SOPS_AGE_KEY_CMD": endless})
    assert code == 3
    assert "SOPS_AGE_KEY_CMD:" in err and "printed more than 1,048,576 bytes" in err
    assert "AGE-SECRET-KEY" not in err


def test_key_cmd_with_a_real_key_still_works() -> None:
    key = VECTORS / "test-key.txt"
    done = run_cli("decrypt", "--no-keyring", str(SOPS_FILE), env=clean_env(
        {"SOPS_AGE_KEY_CMD": f"cat {shlex.quote(str(key))}"}), timeout=120)
    assert done.code == 0 and "stringData:" in done.stdout, done.stderr
