"""exec-env / exec-file on files the real sops encrypted: values reach the child, the
child's exit code is ours, and no plaintext path survives the run (also on Ctrl-C)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sopskit.engine.execenv import flatten
from sopskit.errors import InputError
from tests.helpers import AgeKey, clean_env, run_cli, run_sops

SECRET = """\
apiVersion: v1
kind: Secret
metadata:
    name: app
data:
    DB_PASSWORD: c2VjcmV0LWRi
stringData:
    API_TOKEN: tok-123
"""
NESTED = '{"name": "app", "db": {"hosts": ["a", "b"], "port": 5432}, "debug": true}'
PRINT_ENV = [sys.executable, "-c",
             "import os,sys; print(' '.join(f'{k}={os.environ.get(k)}' for k in sys.argv[1:]))"]


def encrypted(tmp_path: Path, age: AgeKey, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    done = run_sops("encrypt", "-i", "--age", age.recipient, path, env={})
    assert done.returncode == 0, done.stderr
    return path


def cli(tmp_path: Path, age: AgeKey, *args: str | Path):  # type: ignore[no-untyped-def]
    return run_cli("--repo", tmp_path, *args, env=clean_env({"SOPS_AGE_KEY": age.secret}))


def test_flatten_rule() -> None:
    assert flatten(NESTED.encode(), "json", path="x.json") == {
        "name": "app", "db__hosts__0": "a", "db__hosts__1": "b", "db__port": "5432",
        "debug": "true"}
    assert flatten(b"[s]\nk = v\n", "ini", path="x.ini") == {"s__k": "v"}
    assert flatten(SECRET.encode(), "yaml", path="s.yaml") == {
        "DB_PASSWORD": "secret-db", "API_TOKEN": "tok-123"}
    with pytest.raises(InputError, match=r"'a__b' and 'a\.b' both"):
        flatten(b'{"a__b": "x", "a": {"b": "y"}}', "json", path="x.json")


def test_exec_env_binary_value_is_refused_by_name(tmp_path: Path, age: AgeKey) -> None:
    """A Secret's binary `data` (NUL bytes) cannot be an environment variable: one line
    naming the key, exit 3, not an internal error."""
    path = encrypted(tmp_path, age, "bin.yaml", SECRET.replace("c2VjcmV0LWRi", "AAFrZXlzdG9yZQ=="))
    done = cli(tmp_path, age, "exec-env", path, "--", sys.executable, "-c", "pass")
    assert done.code == 3, done.stderr
    assert "data.DB_PASSWORD" in done.stderr and "NUL" in done.stderr
    assert "keystore" not in done.stdout + done.stderr


def test_exec_env_secret_and_exit_code(tmp_path: Path, age: AgeKey) -> None:
    path = encrypted(tmp_path, age, "secret.yaml", SECRET)
    done = cli(tmp_path, age, "exec-env", path, "--", *PRINT_ENV, "DB_PASSWORD", "API_TOKEN")
    assert done.code == 0, done.stderr
    assert done.stdout.strip() == "DB_PASSWORD=secret-db API_TOKEN=tok-123"
    code = cli(tmp_path, age, "exec-env", path, "--", sys.executable, "-c", "raise SystemExit(7)")
    assert code.code == 7


def test_exec_env_pristine_and_dotenv(tmp_path: Path, age: AgeKey) -> None:
    path = encrypted(tmp_path, age, "app.env", "A=1\nTOKEN=t-9\n")
    done = cli(tmp_path, age, "exec-env", "--pristine", path, "--", *PRINT_ENV, "TOKEN", "HOME")
    assert done.stdout.strip() == "TOKEN=t-9 HOME=None"


def test_exec_file_fifo_and_no_fifo(tmp_path: Path, age: AgeKey) -> None:
    path = encrypted(tmp_path, age, "app.json", NESTED)
    plain = run_sops("decrypt", path, env={"SOPS_AGE_KEY": age.secret}).stdout.decode()
    show = ("import os,stat,sys; p=sys.argv[1]; m=os.stat(p).st_mode; "
            "print(stat.S_ISFIFO(m), oct(m & 0o777), p); print(open(p).read(), end='')")
    for flags, fifo in (((), "True"), (("--no-fifo",), "False")):
        done = cli(tmp_path, age, "exec-file", *flags, path, "--", sys.executable, "-c", show,
                   "{}")
        assert done.code == 0, done.stderr
        head, body = done.stdout.split("\n", 1)
        is_fifo, mode, where = head.split(" ")
        assert (is_fifo, mode, body) == (fifo, "0o600", plain)
        assert not Path(where).exists() and not Path(where).parent.exists()


def test_exec_file_unread_fifo_and_exit_code(tmp_path: Path, age: AgeKey) -> None:
    path = encrypted(tmp_path, age, "app.json", NESTED)
    done = cli(tmp_path, age, "exec-file", path, "--", sys.executable, "-c",
               "import sys; print(sys.argv[1]); raise SystemExit(5)")
    assert done.code == 5 and not Path(done.stdout.strip()).exists()


@pytest.mark.parametrize("signal_name", ["INT", "TERM"])
def test_exec_file_removed_when_interrupted(tmp_path: Path, age: AgeKey,
                                            signal_name: str) -> None:
    """The child signals sopskit (its parent) as Ctrl-C or a CI timeout would, then waits
    to be stopped: sopskit stops it, removes the plaintext and exits 130."""
    path = encrypted(tmp_path, age, "app.json", NESTED)
    where, pid = tmp_path / "where", tmp_path / "pid"
    # the child lets go of our pipes, so the run ends when sopskit does, and the child must
    # be gone by then: sopskit stops it before it exits (many runs: the signal may arrive
    # while the child is still being started)
    script = (f'echo "$1" > {where}; echo $$ > {pid}; kill -{signal_name} $PPID; '
              'exec sleep 300 </dev/null >/dev/null 2>&1')
    for _ in range(5):
        done = cli(tmp_path, age, "exec-file", "--no-fifo", path, "--", "sh", "-c", script,
                   "sh", "{}")
        assert done.code == 130, done.stderr
        plaintext = Path(where.read_text().strip())
        assert plaintext.name == "app.json" and not plaintext.parent.exists()
        assert not Path(f"/proc/{pid.read_text().strip()}").exists()  # stopped, and reaped
