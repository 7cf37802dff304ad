"""`sopskit identity ...` run as a user would (subprocess), against a real Secret Service
and without one."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pyrage

from tests.helpers import age_key, clean_env, run_cli
from tests.identity.secret_service import SecretService

ALTERNATIVES = "SOPS_AGE_KEY_FILE, --identity FILE or SOPS_AGE_KEY"


def _list_json(*args: str, env: dict[str, str] | None = None) -> dict[str, object]:
    done = run_cli("identity", "list", "--format", "json", *args, env=env)
    assert done.code == 0, done.stderr
    listing = json.loads(done.stdout)
    assert isinstance(listing, dict)
    return listing


def test_add_list_export_remove(secret_service: SecretService, tmp_path: Path) -> None:
    key = age_key()
    keyfile = tmp_path / "key.txt"
    keyfile.write_text(f"# created by age-keygen\n# public key: {key.recipient}\n{key.secret}\n")
    added = run_cli("identity", "add", "ops-admin", "--from-file", keyfile, cwd=tmp_path)
    assert added.code == 0, added.stderr
    assert added.stdout.strip() == key.recipient  # the public part, never the secret
    assert "stored identity 'ops-admin'" in added.stderr and key.secret not in added.stderr

    listing = _list_json()
    assert listing["identities"] == [{"name": "ops-admin", "recipient": key.recipient,
                                      "kind": "x25519", "source": "keyring:ops-admin"}]
    assert key.secret not in json.dumps(listing)
    text = run_cli("identity", "list")
    assert key.recipient in text.stdout and "keyring:ops-admin" in text.stdout
    assert key.secret not in text.stdout + text.stderr

    exported = run_cli("identity", "export", "ops-admin")
    assert exported.code == 0 and exported.stdout.strip() == key.secret
    assert "warning" in exported.stderr and "PRIVATE key" in exported.stderr

    removed = run_cli("identity", "remove", "ops-admin")
    assert removed.code == 0, removed.stderr
    assert _list_json()["identities"] == []
    again = run_cli("identity", "remove", "ops-admin")
    assert again.code == 3 and "no identity named 'ops-admin'" in again.stderr


def test_generate_and_stdin(secret_service: SecretService) -> None:
    generated = run_cli("identity", "add", "dev-alice", "--generate")
    assert generated.code == 0, generated.stderr
    recipient = generated.stdout.strip()
    assert recipient.startswith("age1") and "AGE-SECRET-KEY" not in generated.stdout
    secret = run_cli("identity", "export", "dev-alice").stdout.strip()
    assert str(pyrage.x25519.Identity.from_str(secret).to_public()) == recipient

    key = age_key()
    piped = run_cli("identity", "add", "dev-bob", "--stdin", input=key.secret + "\n")
    assert piped.code == 0 and piped.stdout.strip() == key.recipient
    names = {i["name"] for i in _list_json()["identities"]}  # type: ignore[union-attr,index]
    assert names == {"dev-alice", "dev-bob"}


def test_existing_name_needs_force(secret_service: SecretService) -> None:
    first, second = age_key(), age_key()
    assert run_cli("identity", "add", "k", "--stdin", input=first.secret).code == 0
    refused = run_cli("identity", "add", "k", "--stdin", input=second.secret)
    assert refused.code == 2 and "--force" in refused.stderr
    assert run_cli("identity", "export", "k").stdout.strip() == first.secret
    forced = run_cli("identity", "add", "k", "--stdin", "--force", input=second.secret)
    assert forced.code == 0
    assert run_cli("identity", "export", "k").stdout.strip() == second.secret


def test_malformed_identity_is_rejected(secret_service: SecretService) -> None:
    good = age_key().secret
    bad = good[:-1] + ("Q" if good[-1] != "Q" else "P")  # bech32 checksum now fails
    done = run_cli("identity", "add", "k", "--stdin", input=bad + "\n")
    assert done.code == 3
    assert "stdin:1: not a valid age identity" in done.stderr
    assert bad not in done.stderr and bad not in done.stdout
    assert _list_json()["identities"] == []
    two = run_cli("identity", "add", "k", "--stdin",
                  input=f"{age_key().secret}\n{age_key().secret}\n")
    assert two.code == 3 and "expected exactly one age identity" in two.stderr


def test_usage_errors() -> None:
    assert run_cli("identity", "add", "k").code == 2
    both = run_cli("identity", "add", "k", "--generate", "--stdin", input="")
    assert both.code == 2 and "exactly one of" in both.stderr
    bad_name = run_cli("identity", "add", "no spaces", "--generate")
    assert bad_name.code == 2 and "invalid identity name" in bad_name.stderr


def test_no_keyring_backend() -> None:
    # conftest selects keyring's fail backend: a headless machine without Secret Service
    for args in (("add", "k", "--generate"), ("remove", "k"), ("export", "k")):
        done = run_cli("identity", *args)
        assert done.code == 3, args
        assert "no OS keyring is available" in done.stderr and ALTERNATIVES in done.stderr
        assert "Traceback" not in done.stderr
    listed = run_cli("identity", "list")
    assert listed.code == 0
    assert "note: keyring skipped: no OS keyring is available" in listed.stdout
    forced = run_cli("identity", "list", "--keyring")
    assert forced.code == 3 and "no OS keyring" in forced.stderr


def test_locked_keyring(locked_service: SecretService) -> None:
    done = run_cli("identity", "add", "k", "--generate", timeout=120)
    assert done.code == 3 and "locked" in done.stderr and ALTERNATIVES in done.stderr
    listed = run_cli("identity", "list", timeout=120)
    assert listed.code == 0 and "keyring skipped" in listed.stdout and "locked" in listed.stdout


def test_keyring_that_never_answers_does_not_hang(silent_bus: str) -> None:
    env = clean_env({"SOPSKIT_KEYRING_TIMEOUT": "1"})
    done = run_cli("identity", "add", "k", "--generate", env=env, timeout=120)
    assert done.code == 3
    assert "did not answer within 1s" in done.stderr and ALTERNATIVES in done.stderr
    listed = run_cli("identity", "list", env=env, timeout=120)
    assert listed.code == 0 and "did not answer within 1s" in listed.stdout


def test_ci_leaves_the_keyring_alone_unless_asked(secret_service: SecretService) -> None:
    key = age_key()
    assert run_cli("identity", "add", "ops-admin", "--stdin", input=key.secret).code == 0
    ci = clean_env({"CI": "true"})
    listing = _list_json(env=ci)
    assert listing["identities"] == []
    assert any("keyring not consulted: CI is set" in n
               for n in listing["notes"])  # type: ignore[union-attr]
    asked = _list_json("--keyring", env=ci)
    assert [i["recipient"] for i in asked["identities"]] == [key.recipient]  # type: ignore[union-attr,index]


def test_list_shows_files_and_environment_without_secrets(tmp_path: Path,
                                                          isolated_env: Path) -> None:
    cli_key, env_key = age_key(), age_key()
    keyfile = tmp_path / "k.txt"
    keyfile.write_text(cli_key.secret + "\n")
    env = clean_env({"SOPS_AGE_KEY": env_key.secret})
    done = run_cli("identity", "list", "--identity", keyfile, env=env)
    assert done.code == 0
    assert done.stdout.index(cli_key.recipient) < done.stdout.index(env_key.recipient)
    assert f"--identity {keyfile}" in done.stdout and "SOPS_AGE_KEY)" in done.stdout
    assert cli_key.secret not in done.stdout and env_key.secret not in done.stdout
    assert "keyring not consulted: SOPS_AGE_KEY is set" in done.stdout
    assert os.environ["HOME"] == str(isolated_env)


def test_ssh_key_is_not_stored(tmp_path: Path) -> None:
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                   check=True, capture_output=True, timeout=60)
    done = run_cli("identity", "add", "laptop", "--from-file", key)
    assert done.code == 3 and "an ssh key is not stored in the keyring" in done.stderr


def _run_on_terminal(args: list[str], typed: str, env: dict[str, str]) -> tuple[int, str]:
    """Run `python -m sopskit ARGS` with a pseudo-terminal as its controlling terminal and
    stdin/stdout/stderr; type `typed` (at the prompt, or after 30 s without one, then
    Ctrl-D); return the exit code and everything the terminal showed, echo included."""
    import pty
    import select
    import signal
    import sys
    import time

    pid, fd = pty.fork()
    if pid == 0:  # the child: exec sopskit, never return into pytest
        os.execve(sys.executable, [sys.executable, "-m", "sopskit", *args], env)
    shown, start, sent = b"", time.monotonic(), False
    while time.monotonic() < start + 120:
        if not sent and (b"AGE-SECRET-KEY-1...)" in shown or time.monotonic() > start + 30):
            os.write(fd, typed.encode() + b"\n\x04")
            sent = True
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
    else:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), shown.decode("utf-8", "replace")


def test_stdin_on_a_terminal_does_not_echo_the_secret(secret_service: SecretService) -> None:
    key = age_key()
    code, shown = _run_on_terminal(["identity", "add", "typed", "--stdin"], key.secret,
                                   clean_env())
    assert code == 0, shown
    assert key.recipient in shown  # the public part is printed
    assert key.secret not in shown  # what the user typed was not echoed
    assert run_cli("identity", "export", "typed").stdout.strip() == key.secret
