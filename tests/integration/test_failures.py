"""Failures leave nothing behind: sops killed or lying mid-write, symlinks out of the repo,
bad input. Each is one clear line on stderr, the right exit code, no value, no traceback."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from tests.helpers import run_cli, sops_binary
from tests.integration.conftest import World

MARK = "plaintext-MARKER-7f3a"


def wrapper(tmp_path: Path, body: str) -> Path:
    """A --sops-binary stand-in that answers --version with the real sops and otherwise
    runs `body` (the real sops still does the work)."""
    script = tmp_path / "sops-wrapper"
    script.write_text(f"""#!/bin/sh
REAL={sops_binary()}
case "$*" in *--version*) exec "$REAL" "$@";; esac
{body}
""")
    script.chmod(0o755)
    return script


def files_containing(root: Path, marker: bytes, since: float) -> list[Path]:
    found = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = Path(dirpath) / name
            try:
                info = path.lstat()
                # regular files only: opening a FIFO another process left in /tmp blocks
                if not stat.S_ISREG(info.st_mode) or info.st_mtime < since - 1:
                    continue
                if info.st_size < 2_000_000 and marker in path.read_bytes():
                    found.append(path)
            except OSError:
                continue
    return found


def assert_one_clean_line(stderr: str) -> None:
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert "Traceback" not in stderr
    assert MARK not in stderr


@pytest.mark.parametrize("body", [
    'exec 3<&0; "$REAL" "$@" <&3 & sleep 0.05; kill -9 $$',  # the wrapper dies mid-run
    '"$REAL" "$@" | head -c 200; exit 0',  # truncated ciphertext, success claimed
    '"$REAL" "$@" | sed "s/data:[A-Za-z0-9+]/data:AA/"; exit 0',  # a tampered value
    'exit 23',  # sops fails
])
def test_failed_or_lying_sops_leaves_original(world: World, tmp_path: Path, body: str) -> None:
    start = time.time()
    mark = f"{MARK}-{uuid.uuid4().hex}"
    path = world.write("app/s.yaml", f"user: app\npassword: {mark}\n")
    before = path.read_bytes()
    result = world.cli("--sops-binary", wrapper(tmp_path, body), "encrypt", "-i",
                       "--age", world.key.recipient, path)
    assert result.code in (1, 3), result.stderr
    assert_one_clean_line(result.stderr)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["s.yaml"]
    leaks = files_containing(Path("/tmp"), mark.encode(), start)
    leaks += files_containing(world.repo, mark.encode(), start)
    assert set(leaks) == {path}


def test_killed_edit_leaves_original_and_no_plaintext(world: World, tmp_path: Path) -> None:
    unique = uuid.uuid4().hex
    path = world.write("s.env", f"PASSWORD=MARKER-{unique}\n")
    assert world.cli("encrypt", "-i", "--age", world.key.recipient, path).code == 0
    before = path.read_bytes()
    editor = tmp_path / "ed.sh"
    # the editor's parent is sopskit's editor shim; its parent is sops: kill sops
    editor.write_text("#!/bin/sh\nsed -i 's/MARKER/CHANGED/' \"$1\"\n"
                      "kill -9 $(ps -o ppid= -p $PPID)\n")
    editor.chmod(0o755)
    start = time.time()
    result = world.cli("edit", path, env={**world.env, "EDITOR": str(editor)})
    assert result.code == 3
    assert_one_clean_line(result.stderr)  # sops died silently; ours is the one line
    assert path.read_bytes() == before
    # sops was killed before it could delete its plaintext temp file: ours is gone anyway
    for root in (Path("/tmp"), Path("/dev/shm")):
        assert files_containing(root, unique.encode(), start) == []
    assert sorted(p.name for p in path.parent.iterdir() if not p.name.startswith(".git")) == [
        "s.env"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_terminated_edit_removes_the_editors_plaintext(world: World, tmp_path: Path,
                                                       signum: int) -> None:
    """A closed terminal or a CI timeout signals the whole process group: sops dies without
    removing its plaintext temp file, so sopskit must survive the signal long enough to
    remove sops' private TMPDIR (and its own temp copy) before it exits 130."""
    unique = uuid.uuid4().hex
    path = world.write("s.env", f"PASSWORD=MARKER-{unique}\n")
    assert world.cli("encrypt", "-i", "--age", world.key.recipient, path).code == 0
    before = path.read_bytes()
    seen = tmp_path / "editing"
    editor = tmp_path / "ed.sh"
    editor.write_text(f'#!/bin/sh\necho "$1" > {seen}.part && mv {seen}.part {seen}\n'
                      "exec sleep 60\n")
    editor.chmod(0o755)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sopskit", "--repo", world.repo, "edit", path],
        env={**world.env, "EDITOR": str(editor)}, cwd=world.repo, start_new_session=True,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while not seen.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    plaintext = Path(seen.read_text().strip())
    assert unique.encode() in plaintext.read_bytes()  # the editor's file, as sops wrote it
    os.killpg(proc.pid, signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert_one_clean_line(err.decode())
    assert not plaintext.exists()
    assert not plaintext.parent.parent.exists()  # sops' private TMPDIR
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir() if not p.name.startswith(".git")) == [
        "s.env"]


def test_symlink_out_of_repo_is_refused(world: World, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "s.yaml"
    target.write_text(f"password: {MARK}\n")
    (world.repo / "link").symlink_to(outside)
    for args in (["encrypt", "-i", "--age", world.key.recipient], ["edit"], ["decrypt"]):
        result = world.cli(*args, world.repo / "link" / "s.yaml")
        assert result.code == 3
        assert "outside the repository" in result.stderr
        assert_one_clean_line(result.stderr)
    assert target.read_text() == f"password: {MARK}\n"


def encrypted(world: World, rel: str, text: str) -> Path:
    path = world.write(rel, text)
    assert world.cli("encrypt", "-i", "--age", world.key.recipient, path).code == 0
    return path


BAD_PLAINTEXT = {
    "invalid.yaml": f"a: !!int {MARK}\n",
    "invalid.json": '{"a": ' + MARK + "}",
    "invalid.env": f"{MARK}\n",
    "invalid.ini": f"[s]\n{MARK}\n",
    "junk.yaml": os.urandom(64).hex() + "\x00\xff" + MARK,
    "empty.yaml": "",
}


@pytest.mark.parametrize("name", sorted(BAD_PLAINTEXT))
def test_bad_plaintext_is_one_line_exit_3(world: World, name: str) -> None:
    path = world.write(name, BAD_PLAINTEXT[name])
    result = world.cli("encrypt", "-i", "--age", world.key.recipient, path)
    assert result.code == 3, result.stderr
    assert_one_clean_line(result.stderr)
    assert name in result.stderr
    assert path.read_text(errors="replace") == BAD_PLAINTEXT[name]


def test_bad_sops_files(world: World) -> None:
    good = encrypted(world, "good.yaml", f"password: {MARK}\n")
    text = good.read_text()
    cases = {
        "truncated.yaml": text[: len(text) // 2],
        "invalid.yaml": "a: [unclosed\n",
        "invalid.json": '{"a": ',
        "junk.yaml": "\x00\x01\x02garbage\xff",
        "empty.yaml": "",
        "plain.yaml": "just: plaintext\n",
    }
    for name, body in cases.items():
        path = world.write(name, body)
        result = world.cli("verify", "--format", "json", path)
        assert result.code == 1, (name, result)
        import json

        report = json.loads(result.stdout)["files"][0]
        assert report["ok"] is False
        assert report["errors"][0]["check"] in ("parse", "metadata", "structure"), report
        dec = world.cli("decrypt", path)
        assert dec.code in (1, 3), (name, dec)
        assert_one_clean_line(dec.stderr)


def test_50_mb_file(world: World) -> None:
    path = world.repo / "huge.yaml"
    with path.open("w") as fh:
        fh.write("a: " + "x" * (50 * 1024 * 1024) + "\n")
    for args in (["encrypt", "-i", "--age", world.key.recipient], ["decrypt"], ["edit"]):
        result = world.cli(*args, path)
        assert result.code == 3
        assert "too large" in result.stderr
        assert_one_clean_line(result.stderr)
    result = world.cli("verify", path)
    assert result.code == 3 and "too large" in result.stdout


def test_missing_sops_binary_and_old_sops(world: World, tmp_path: Path) -> None:
    path = world.write("s.yaml", "a: 1\n")
    result = world.cli("--sops-binary", tmp_path / "nope", "encrypt", "-i", "--age",
                       world.key.recipient, path)
    assert result.code == 3 and "sops binary not found" in result.stderr
    assert_one_clean_line(result.stderr)
    old = tmp_path / "old-sops"
    old.write_text("#!/bin/sh\necho 'sops 3.8.1'\n")
    old.chmod(0o755)
    result = world.cli("--sops-binary", old, "encrypt", "-i", "--age", world.key.recipient,
                       path)
    assert result.code == 3 and "3.8.1" in result.stderr and "3.9.0" in result.stderr


def test_no_identity(world: World) -> None:
    path = encrypted(world, "s.yaml", f"password: {MARK}\n")
    env = {k: v for k, v in world.env.items() if k != "SOPS_AGE_KEY_FILE"}
    for args in (["decrypt"], ["edit"], ["verify", "--require-mac"]):
        result = world.cli(*args, path, env=env)
        if args[0] == "verify":
            assert result.code == 1
            continue
        assert result.code == 3, result
        assert_one_clean_line(result.stderr)
    plain = world.cli("verify", path, env=env)
    assert plain.code == 0 and "MAC not checked" in plain.stdout


def test_sops_stderr_never_shows_a_value(world: World) -> None:
    for name, body in (("v.yaml", f"a: !!int {MARK}\n"), ("v.env", f"{MARK}\n"),
                       ("v.ini", f"[s]\n{MARK}\n")):
        path = world.write(name, body)
        result = world.cli("encrypt", "-i", "--age", world.key.recipient, path)
        assert result.code == 3
        assert MARK not in result.stderr and MARK not in result.stdout
        assert "sops could not read or parse" in result.stderr


def test_edit_result_must_decrypt_to_what_was_saved(world: World, tmp_path: Path) -> None:
    """A sops that re-encrypts something else than the saved text (here: a valid `sops set`
    after the edit, same data key, valid MAC) is caught by the round-trip check."""
    path = world.write("s.yaml", "user: app\npassword: before\n")
    assert world.cli("encrypt", "-i", "--age", world.key.recipient, path).code == 0
    original = path.read_bytes()
    lying = wrapper(tmp_path, 'for last; do :; done\n"$REAL" "$@" || exit $?\n'
                              'exec "$REAL" set "$last" \'["user"]\' \'"sneaky"\'')
    editor = tmp_path / "ed.sh"
    editor.write_text("#!/bin/sh\nsed -i 's/before/after/' \"$1\"\n")
    editor.chmod(0o755)
    result = world.cli("--sops-binary", lying, "edit", path,
                       env={**world.env, "EDITOR": str(editor)})
    assert result.code == 1, result
    assert "intended content" in result.stderr
    assert path.read_bytes() == original
    honest = world.cli("edit", path, env={**world.env, "EDITOR": str(editor)})
    assert honest.code == 0
    assert "password: after" in world.cli("decrypt", path).stdout


def test_unwritable_output_is_one_line_exit_3(world: World) -> None:
    src = world.write("plain.env", f"A={MARK}\n")
    for args in (["encrypt", "--age", world.key.recipient, src],):
        result = world.cli(*args, "-o", world.repo / "no-such-dir" / "out.env")
        assert result.code == 3
        assert "cannot write here" in result.stderr
        assert_one_clean_line(result.stderr)
    enc = encrypted(world, "enc.env", f"A={MARK}\n")
    result = world.cli("decrypt", enc, "-o", world.repo / "no-such-dir" / "plain.env", "--force")
    assert result.code == 3 and "cannot write here" in result.stderr
    assert_one_clean_line(result.stderr)


def test_successful_operations_leave_no_plaintext_on_disk(world: World, tmp_path: Path) -> None:
    start = time.time()
    mark = f"{MARK}-{uuid.uuid4().hex}"
    path = world.write("s.yaml", f"password: {mark}\n")
    editor = tmp_path / "ed.sh"
    editor.write_text("#!/bin/sh\nsed -i 's/password/passwd/' \"$1\"\n")
    editor.chmod(0o755)
    assert world.cli("encrypt", "-i", "--age", world.key.recipient, path).code == 0
    assert world.cli("edit", path, env={**world.env, "EDITOR": str(editor)}).code == 0
    assert mark in world.cli("decrypt", path).stdout
    for root in (Path("/tmp"), Path("/dev/shm"), world.repo):
        assert files_containing(root, mark.encode(), start) == []


def test_sops_timeout_from_environment(world: World, tmp_path: Path) -> None:
    path = world.write("s.yaml", f"password: {MARK}\n")
    slow = wrapper(tmp_path, 'sleep 20; exec "$REAL" "$@"')
    result = world.cli("--sops-binary", slow, "encrypt", "-i", "--age", world.key.recipient,
                       path, env={**world.env, "SOPSKIT_SOPS_TIMEOUT": "1"})
    assert result.code == 3
    assert "did not finish within 1s" in result.stderr
    assert_one_clean_line(result.stderr)
    assert path.read_text() == f"password: {MARK}\n"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_terminated_encrypt_leaves_original_and_no_temp_file(world: World, tmp_path: Path,
                                                             signum: int) -> None:
    """SIGTERM / SIGHUP to sopskit while sops runs: exit 130, the original byte-identical,
    no `.sopskit-*` temp file and no plaintext left (as for Ctrl-C)."""
    unique = uuid.uuid4().hex
    path = world.write("app/s.yaml", f"user: app\npassword: MARKER-{unique}\n")
    before = path.read_bytes()
    slow = wrapper(tmp_path, 'touch "$0.started"; sleep 30; exec "$REAL" "$@"')
    start = time.time()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sopskit", "--repo", str(world.repo), "--sops-binary", str(slow),
         "encrypt", "-i", "--age", world.key.recipient, str(path)],
        env=world.env, cwd=world.repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started = Path(f"{slow}.started")
    deadline = time.time() + 60
    while not started.exists() and time.time() < deadline:
        time.sleep(0.05)
    assert started.exists(), "sops never started"
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and unique not in stderr
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["s.yaml"]
    assert files_containing(Path("/tmp"), unique.encode(), start) == [path]  # the original


def test_kill_9_of_the_whole_edit_leaves_plaintext_that_the_next_run_removes(
        world: World, tmp_path: Path) -> None:
    """`kill -9` of the process group (sopskit, sops, the editor) runs no clean-up at all:
    sops' plaintext temp file stays in sopskit's private in-memory directory. `doctor` lists
    it, and the next command that makes such a directory removes it first."""
    unique = uuid.uuid4().hex
    path = world.write("s.env", f"PASSWORD=MARKER-{unique}\n")
    assert world.cli("encrypt", "-i", "--age", world.key.recipient, path).code == 0
    before = path.read_bytes()
    # a scratch parent of this test's own (in memory like /dev/shm when /dev/shm is one):
    # other sopskit runs on the machine sweep /dev/shm too, and would remove our leftover
    shm = Path(tempfile.mkdtemp(prefix="shm-", dir="/dev/shm" if Path("/dev/shm").is_dir()
                                else None))
    env = {**world.env, "SOPSKIT_SCRATCH_DIR": str(shm)}
    ready, hold = tmp_path / "ready", tmp_path / "hold"
    os.mkfifo(ready)
    os.mkfifo(hold)
    editor = tmp_path / "ed.sh"  # says where the plaintext is, then waits for ever
    editor.write_text(f'#!/bin/sh\necho "$1" > {ready}\ncat {hold}\n')
    editor.chmod(0o755)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sopskit", "--repo", world.repo, "edit", path],
        env={**env, "EDITOR": str(editor)}, cwd=world.repo, start_new_session=True,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    plaintext = Path(ready.read_text().strip())  # blocks until the editor runs
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert unique.encode() in plaintext.read_bytes()  # left behind: nothing could run
    scratch_dir = next(p for p in plaintext.parents if p.name.startswith("sopskit-edit-"))
    assert scratch_dir.parent == shm
    assert scratch_dir.name.startswith(f"sopskit-edit-{proc.pid}-")

    doctor = world.cli("doctor", "--format", "json", env=env)
    assert json.loads(doctor.stdout)["leftovers"] == [
        {"path": str(scratch_dir), "kind": "edit", "pid": proc.pid, "files": 1}]
    assert plaintext.exists()  # doctor only reports

    again = world.cli("edit", path, env={**env, "EDITOR": "true"})
    assert again.code == 0, again.stderr
    assert list(shm.iterdir()) == []  # the leftover is gone, and this run's own too
    assert path.read_bytes() == before
    shm.rmdir()


@pytest.mark.parametrize(("name", "plain", "bad", "line"), [
    ("s.yaml", "password: MARK\n", "password: [unclosed\n", 2),
    ("s.json", '{"password": "MARK"}', '{"password": MARK-unquoted}', 1),
    ("s.env", "PASSWORD=MARK\n", "PASSWORD=x\nno equals sign here\n", 2),
])
def test_edit_with_invalid_content_and_no_terminal_stops(world: World, tmp_path: Path,
                                                         name: str, plain: str, bad: str,
                                                         line: int) -> None:
    """sops asks for a key press to re-open the editor on content it cannot load; with no
    terminal the read ends at once and it re-opens the editor for ever. sopskit stops after
    the first time, with one line, and the file is unchanged."""
    path = world.write(name, plain)
    assert world.cli("encrypt", "-i", "--age", world.key.recipient, path).code == 0
    before = path.read_bytes()
    runs = tmp_path / "runs"
    editor = tmp_path / "ed.sh"
    editor.write_text(f"#!/bin/sh\necho run >> {runs}\ncat > \"$1\" <<'EOF'\n{bad}EOF\n")
    editor.chmod(0o755)
    done = run_cli("--repo", world.repo, "edit", path, env={**world.env, "EDITOR": str(editor)},
                   cwd=world.repo, input="", timeout=120)  # stdin: a pipe, no terminal
    assert done.code == 3, done.stderr
    assert_one_clean_line(done.stderr)
    assert f"the editor left content sops cannot load as {name.split('.')[1]}".replace(
        "env", "dotenv") in done.stderr
    assert f"(line {line}: " in done.stderr and "MARK" not in done.stderr
    assert runs.read_text() == "run\n"  # the editor ran once
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir() if not p.name.startswith(".git")) == [
        name]
