"""keys generate when the registry cannot be written: the private part goes too."""

from __future__ import annotations

from pathlib import Path

import pytest

from sopskit.errors import InputError
from sopskit.registry import edit, keyops
from sopskit.registry.private import FileDestination
from sopskit.registry.schema import load_registry

REG = Path("keys") / "registry.yaml"


def _failing_write(path: Path, text: str) -> None:
    raise InputError("cannot write it (No space left on device); it is unchanged", path=path)


@pytest.mark.parametrize("kind", ["age", "pgp"])
def test_generate_leaves_no_private_key_when_the_registry_write_fails(
        repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    before = (repo / REG).read_text()
    out = tmp_path / "new-key.txt"
    # the disk fills up between storing the private key and replacing the registry
    monkeypatch.setattr(edit, "write_atomic", _failing_write)
    with pytest.raises(InputError, match="No space left"):
        keyops.generate_key(repo / REG, "new-key", kind, keyops.KeyMeta(("sandbox",)),
                            FileDestination(out))
    assert not out.exists()  # the private key of a key the registry does not know is gone
    assert not (repo / "keys" / "pgp" / "new-key.asc").exists()
    assert (repo / REG).read_text() == before
    assert "new-key" not in load_registry(repo / REG).keys


def test_a_private_key_file_that_cannot_be_written_is_not_left_half_written(
        repo: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    out = tmp_path / "k.txt"
    # a real short write: the file size limit (RLIMIT_FSIZE) is below a private key's size
    code = ("import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN);"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (40, 40));"
            "from sopskit.cli.main import main; main(sys.argv[1:])")
    done = subprocess.run([sys.executable, "-c", code, "keys", "generate", "k", "--type", "age",
                           "--cluster", "sandbox", "--private-out", str(out)], cwd=repo,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert f"{out}: cannot write the private key file (File too large)" in done.stderr
    assert not out.exists()
    assert "k" not in load_registry(repo / REG).keys
