"""Outputs that are not plain files, and files that are not ours (issue 9, sections 3-4):
`decrypt -o` into a FIFO streams into it (never replaces it with a plaintext file) and
refuses a socket; `encrypt -i` keeps the replaced file's owner, group and mode, or refuses
when it cannot keep them."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from tests.fuzz.mutator import VECTORS
from tests.helpers import AgeKey, clean_env, run_cli

SOPS_FILE = VECTORS / "seed.yaml"
KEY_ENV = {"SOPS_AGE_KEY_FILE": str(VECTORS / "test-key.txt")}


def test_decrypt_into_a_fifo_streams_and_keeps_the_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "plain.yaml"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()  # blocks in open() until the writer comes: no timing involved
    done = run_cli("decrypt", "--no-keyring", "-o", fifo, SOPS_FILE, env=clean_env(KEY_ENV),
                   timeout=120)
    reader.join(timeout=60)
    assert done.code == 0, done.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)  # still the pipe, not a plaintext file
    assert received and b"stringData:" in received[0] and b"hunter2" in received[0]
    assert [p.name for p in tmp_path.iterdir()] == ["plain.yaml"]  # no temp file left


def test_decrypt_to_a_character_device(tmp_path: Path) -> None:
    """A pseudo-terminal of the test's own, never a shared device such as /dev/null: code
    that replaced the device (as the unfixed one did, as root) would clobber that for the
    whole machine; /dev/pts refuses new files, so here it can only fail."""
    master, slave = os.openpty()
    try:
        device = os.ttyname(slave)
        os.set_blocking(master, False)
        done = run_cli("decrypt", "--no-keyring", "-o", device, SOPS_FILE,
                       env=clean_env(KEY_ENV), timeout=120)
        assert done.code == 0, done.stderr
        assert stat.S_ISCHR(os.stat(device).st_mode)
        received = os.read(master, 1 << 16)
        assert b"stringData:" in received and b"hunter2" in received
    finally:
        os.close(master)
        os.close(slave)


def test_decrypt_refuses_to_replace_a_socket() -> None:
    where = Path(tempfile.mkdtemp(prefix="sk", dir="/tmp"))  # AF_UNIX paths are short
    try:
        path = where / "s"
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
        done = run_cli("decrypt", "--no-keyring", "-o", path, SOPS_FILE,
                       env=clean_env(KEY_ENV), timeout=120)
        sock.close()
        assert done.code == 2 and "not a regular file, FIFO or character device" in done.stderr
        assert stat.S_ISSOCK(path.lstat().st_mode)
        assert sorted(p.name for p in where.iterdir()) == ["s"]
    finally:
        for p in where.iterdir():
            p.unlink()
        where.rmdir()


def _other_owner() -> tuple[int, int]:
    if os.geteuid() == 0:
        return 12345, 23456
    groups = [g for g in os.getgroups() if g != os.getegid()]
    if not groups:
        pytest.skip("needs root or a secondary group to give a file another group")
    return os.geteuid(), groups[0]


def test_encrypt_in_place_keeps_owner_group_and_mode(tmp_path: Path, age: AgeKey) -> None:
    uid, gid = _other_owner()
    target = tmp_path / "app.env"
    target.write_text("TOKEN=tok-secret-42\n")
    os.chown(target, uid, gid)
    target.chmod(0o640)
    done = run_cli("encrypt", "--no-keyring", "-i", "--age", age.recipient, target,
                   env=clean_env({"SOPS_AGE_KEY": age.secret}), cwd=tmp_path, timeout=120)
    assert done.code == 0, done.stderr
    info = target.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (uid, gid, 0o640)
    assert "tok-secret-42" not in target.read_text()


@pytest.mark.skipif(os.geteuid() != 0 or not Path("/usr/bin/setpriv").exists(),
                    reason="needs root to run a writer as another user (setpriv)")
def test_replacing_someone_elses_file_is_refused_and_leaves_it_unchanged() -> None:
    """A user who may write the directory (not the file's owner) cannot give the new file
    the old owner: the replacement is refused, the file stays byte-identical and theirs."""
    where = Path(tempfile.mkdtemp(prefix="sk", dir="/tmp"))
    try:
        where.chmod(0o777)
        target = where / "shared.env"
        target.write_text("A=1\n")
        target.chmod(0o666)
        script = ("import sys; from pathlib import Path; from sopskit.fsio import "
                  "replace_verified; from sopskit.errors import SopskitError\n"
                  "try:\n replace_verified(Path(sys.argv[1]), b'B=2\\n', lambda p: None)\n"
                  "except SopskitError as e:\n print(e); sys.exit(3)\n")
        done = subprocess.run(
            ["setpriv", "--reuid=12345", "--regid=12345", "--clear-groups", sys.executable,
             "-c", script, str(target)], capture_output=True, text=True, timeout=60,
            cwd=str(Path(__file__).resolve().parents[2]), check=False,
            env={"PATH": os.environ["PATH"], "HOME": str(where)})
        assert done.returncode == 3, (done.stdout, done.stderr)
        assert "cannot keep its owner and group (uid 0, gid 0)" in done.stdout
        assert target.read_text() == "A=1\n" and target.stat().st_uid == 0
        assert sorted(p.name for p in where.iterdir()) == ["shared.env"]
    finally:
        for p in where.iterdir():
            p.unlink()
        where.rmdir()


def test_encrypt_to_a_character_device_streams(tmp_path: Path, age: AgeKey) -> None:
    """`encrypt -o DEVICE` (as `-o /dev/null` as root) replaced the device with a file;
    on the test's own pty (/dev/pts refuses new files) the old code can only fail."""
    plain = tmp_path / "app.yaml"
    plain.write_text("token: tok-secret-42\n")
    master, slave = os.openpty()
    try:
        device = os.ttyname(slave)
        os.set_blocking(master, False)
        done = run_cli("encrypt", "--no-keyring", "--age", age.recipient, "-o", device, plain,
                       env=clean_env({"SOPS_AGE_KEY": age.secret}), cwd=tmp_path, timeout=120)
        assert done.code == 0, done.stderr
        assert stat.S_ISCHR(os.stat(device).st_mode)
        received = os.read(master, 1 << 16)
        assert b"token: ENC[AES256_GCM" in received and b"tok-secret-42" not in received
    finally:
        os.close(master)
        os.close(slave)


def test_no_atomic_write_replaces_a_fifo(tmp_path: Path) -> None:
    """The one rename of every write (registry, .sops.yaml, `-o` targets) refuses a FIFO."""
    from sopskit.errors import InputError
    from sopskit.fsio import write_atomic

    fifo = tmp_path / "registry.yaml"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        write_atomic(fifo, "keys: {}\n")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["registry.yaml"]


def test_a_fifo_gone_before_the_write_does_not_become_a_plaintext_file(tmp_path: Path) -> None:
    """`decrypt -o FIFO` in a work tree passes the destination check (git never adds a
    FIFO); if the FIFO is gone when the plaintext is ready, the check runs again and
    refuses a regular file there, unless --force."""
    from sopskit.engine.decrypt import check_plaintext_destination, deliver_plaintext
    from sopskit.errors import UsageError

    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    fifo = repo / "plain.yaml"
    os.mkfifo(fifo)
    check_plaintext_destination(repo, fifo, force=False)  # a FIFO: allowed
    fifo.unlink()  # gone while sops decrypts
    with pytest.raises(UsageError, match="refusing to write plaintext inside the repository"):
        deliver_plaintext(repo, fifo, b"password: hunter2\n", force=False)
    assert not fifo.exists()
    deliver_plaintext(repo, fifo, b"password: hunter2\n", force=True)
    assert stat.S_IMODE(fifo.stat().st_mode) == 0o600
