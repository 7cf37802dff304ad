"""No private key in any message (issue 9, section 4): a private key given where a recipient
belongs is named by argument and kind of mistake, never echoed; a keyring backend's
exception text is not relayed; and every SopskitError redacts key material, whoever put
it into the message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sopskit.errors import ConfigError, InputError, redact
from tests.helpers import AgeKey, clean_env, run_cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("option", ["--age", "--pgp"])
def test_private_key_as_recipient_is_named_not_echoed(tmp_path: Path, age: AgeKey,
                                                      option: str) -> None:
    plain = tmp_path / "app.env"
    plain.write_text("A=1\n")
    done = run_cli("encrypt", option, age.secret, plain, cwd=tmp_path)
    assert done.code == 2
    assert done.stderr == (f"sopskit: error: {option}: this is a private key, not a recipient"
                           " or a path: give its public key (age1...; `age-keygen -y KEYFILE`"
                           " prints it) or a key file (--identity FILE); the value is not"
                           " shown\n")
    assert plain.read_text() == "A=1\n"


def test_library_names_the_option_too(age: AgeKey) -> None:
    from sopskit.engine.policy import option_recipients
    from sopskit.errors import UsageError

    with pytest.raises(UsageError) as err:
        option_recipients([age.secret], [])
    assert str(err.value).startswith("--age: this is a private key, not a recipient")
    assert age.secret not in str(err.value)


@pytest.mark.parametrize("args", [
    ("verify", "{key}"), ("recipients", "x.yaml", "{key}"), ("decrypt", "{key}"),
    ("encrypt", "--age={key}", "x.env")])
def test_a_private_key_anywhere_on_the_command_line_is_refused_unechoed(
        tmp_path: Path, age: AgeKey, args: tuple[str, ...]) -> None:
    """Pasted as a path too: report lines would echo it, so nothing runs."""
    done = run_cli(*(a.format(key=age.secret) for a in args), cwd=tmp_path)
    assert done.code == 2 and done.stdout == ""
    assert age.secret not in done.stderr and "this is a private key" in done.stderr
    assert done.stderr.count("\n") == 1


def test_second_of_several_recipients_is_named_by_position(tmp_path: Path, age: AgeKey) -> None:
    plain = tmp_path / "app.env"
    plain.write_text("A=1\n")
    done = run_cli("encrypt", "--age", age.recipient, "--age", age.secret.lower(), plain,
                   cwd=tmp_path)
    assert done.code == 2 and "--age: this is a private key" in done.stderr
    assert age.secret.lower() not in done.stderr.lower()


def test_click_errors_do_not_echo_a_private_key(tmp_path: Path, age: AgeKey) -> None:
    done = run_cli("audit", "--format", age.secret, cwd=tmp_path)
    assert done.code == 2 and age.secret not in done.stderr
    assert done.stderr.startswith("sopskit: error: --format: this is a private key")


def test_keyring_backend_text_is_not_relayed(tmp_path: Path, age: AgeKey) -> None:
    env = clean_env({"PYTHON_KEYRING_BACKEND": "tests.identity.echoing_backend.EchoingKeyring",
                     "PYTHONPATH": str(ROOT)})
    done = run_cli("--repo", tmp_path, "identity", "add", "ops", "--stdin", input=age.secret,
                   env=env, cwd=tmp_path)
    assert done.code == 3, (done.stdout, done.stderr)
    assert age.secret not in done.stderr + done.stdout
    assert "PasswordSetError (the backend's message is not shown)" in done.stderr


def test_every_error_redacts_key_material(age: AgeKey) -> None:
    pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n" \
          "-----END OPENSSH PRIVATE KEY-----"
    err = InputError(f"bad value {age.secret} and {pem}", path=f"/x/{age.secret}",
                     key_path=age.secret)
    text = str(err)
    assert age.secret not in text and "b3BlbnNzaC1rZXktdjEAAAAA" not in text
    assert text.count("<an age private key, not shown>") == 3
    assert "<a private key block, not shown>" in text
    assert age.secret not in str(ConfigError("x", problems=(f"k: {age.secret}",)))
    assert redact("AGE-SECRET-KEY-PQ-1QQQQ and age1abc") == \
        "<an age private key, not shown> and age1abc"
    assert os.environ.get("SOPS_AGE_KEY") is None


def test_a_value_given_as_sops_set_takes_it_is_not_echoed(tmp_path: Path, age: AgeKey) -> None:
    """`sops set FILE PATH VALUE` takes the value as an argument; `sopskit set` does not,
    and click's "Got unexpected extra argument (VALUE)" would print the secret."""
    plain = tmp_path / "app.env"
    plain.write_text("A=1\n")
    assert run_cli("encrypt", "-i", "--age", age.recipient, plain, cwd=tmp_path).code == 0
    value = "Zq8vT3xLm9pRw2Yk-planted"
    for args in (("set", plain, '["B"]', f'"{value}"'), ("unset", plain, '["A"]', value),
                 ("decrypt", plain, value)):
        done = run_cli(*args, cwd=tmp_path)
        assert done.code == 2, done.stderr
        assert value not in done.stderr + done.stdout
        assert "unexpected extra argument" in done.stderr
    assert "--value-stdin" in run_cli("set", plain, '["B"]', value, cwd=tmp_path).stderr
    assert value not in plain.read_text()
