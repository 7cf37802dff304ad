"""discover(): the sources in the issue's order, the keyring policy, and "key X alone"."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from sopskit.errors import InputError, KeyringError
from sopskit.identity.discover import discover
from sopskit.identity.keyring_store import KeyringStore
from sopskit.identity.sources import default_keys_path
from tests.helpers import AgeKey, GpgHome, age_key
from tests.identity.secret_service import SecretService


def _keys_file(path: Path, *keys: AgeKey) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"# public key: {k.recipient}\n{k.secret}\n" for k in keys))
    path.chmod(0o600)
    return path


def _default_keys(home: Path, key: AgeKey) -> Path:
    return _keys_file(home / ".config" / "sops" / "age" / "keys.txt", key)


def _ssh_key(home: Path) -> Path:
    path = home / ".ssh" / "id_ed25519"
    path.parent.mkdir(mode=0o700, exist_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
                   check=True, capture_output=True, timeout=60)
    return path


def test_sources_in_the_issue_order(secret_service: SecretService, isolated_env: Path,
                                    tmp_path: Path, gpg_home: GpgHome) -> None:
    cli, inline, file_, cmd, stored, default = (age_key() for _ in range(6))
    KeyringStore().put("ops-admin", stored.secret)
    _default_keys(isolated_env, default)
    cmd_file = _keys_file(tmp_path / "cmd-keys", cmd)
    env = {**os.environ, "SOPS_AGE_KEY": inline.secret,
           "SOPS_AGE_KEY_FILE": str(_keys_file(tmp_path / "env-keys", file_)),
           "SOPS_AGE_KEY_CMD": f"cat {cmd_file}", "GNUPGHOME": str(gpg_home.path)}
    ids = discover(identity_files=[_keys_file(tmp_path / "cli-keys", cli)], env=env,
                   use_keyring=True)
    assert [i.recipient for i in ids.age] == [k.recipient for k in
                                              (cli, inline, file_, cmd, stored, default)]
    assert [i.source.split(" ")[0].split("=")[0] for i in ids.age] == [
        "--identity", "SOPS_AGE_KEY", "SOPS_AGE_KEY_FILE", "SOPS_AGE_KEY_CMD",
        "keyring:ops-admin", "default"]
    assert ids.age[4].name == "ops-admin"
    assert ids.gnupghome == gpg_home.path
    assert ids.sources[-1] == f"GNUPGHOME {gpg_home.path}"


def test_default_keys_txt_locations() -> None:
    home = {"HOME": "/h"}
    assert default_keys_path(home, "linux") == Path("/h/.config/sops/age/keys.txt")
    assert default_keys_path({**home, "XDG_CONFIG_HOME": "/x"}, "linux") == Path(
        "/x/sops/age/keys.txt")
    assert default_keys_path(home, "darwin") == Path(
        "/h/Library/Application Support/sops/age/keys.txt")
    assert default_keys_path({**home, "XDG_CONFIG_HOME": "/x"}, "darwin") == Path(
        "/x/sops/age/keys.txt")
    assert default_keys_path({"APPDATA": "C:/a"}, "win32") == Path("C:/a/sops/age/keys.txt")
    assert default_keys_path({}, "linux") is None


@pytest.mark.parametrize("var", ["CI", "SOPS_AGE_KEY", "SOPS_AGE_KEY_FILE"])
def test_keyring_left_alone_in_ci_or_with_sops_age_key(secret_service: SecretService,
                                                       tmp_path: Path, var: str) -> None:
    stored, other = age_key(), age_key()
    KeyringStore().put("ops-admin", stored.secret)
    value = {"CI": "true", "SOPS_AGE_KEY": other.secret,
             "SOPS_AGE_KEY_FILE": str(_keys_file(tmp_path / "k", other))}[var]
    env = {**os.environ, var: value}
    ids = discover(env=env)
    assert stored.recipient not in ids.age_recipients()
    assert any(n.startswith("keyring not consulted") and var in n for n in ids.notes)
    # asked explicitly, the keyring is read after all
    assert stored.recipient in discover(env=env, use_keyring=True).age_recipients()


def test_unusable_keyring_is_a_note_unless_asked_for() -> None:
    ids = discover()  # conftest: the fail backend, as on a headless machine
    assert ids.age == ()
    assert any("keyring skipped: no OS keyring is available" in n for n in ids.notes)
    with pytest.raises(KeyringError, match="no OS keyring"):
        discover(use_keyring=True)


def test_locked_keyring_is_skipped_quickly_with_the_reason(locked_service: SecretService,
                                                           isolated_env: Path) -> None:
    key = age_key()
    _default_keys(isolated_env, key)
    ids = discover()
    assert [i.recipient for i in ids.age] == [key.recipient]
    assert any("keyring skipped" in n and "locked" in n for n in ids.notes)


def test_ssh_keys_are_used_only_when_named(isolated_env: Path) -> None:
    ssh = _ssh_key(isolated_env)
    assert discover().age == ()  # ~/.ssh/id_ed25519 is not merged silently (sops would)
    named = discover(env={**os.environ, "SOPS_AGE_SSH_PRIVATE_KEY_FILE": str(ssh)})
    assert [i.kind for i in named.age] == ["ssh"]
    assert named.age[0].recipient.startswith("ssh-ed25519 ")
    by_flag = discover(identity_files=[ssh])
    assert by_flag.age[0].recipient == named.age[0].recipient


def test_a_check_naming_key_x_uses_x_alone(isolated_env: Path, tmp_path: Path,
                                           gpg_home: GpgHome) -> None:
    x, default = age_key(), age_key()
    _default_keys(isolated_env, default)
    _ssh_key(isolated_env)
    env = {**os.environ, "SOPS_AGE_KEY": x.secret, "GNUPGHOME": str(gpg_home.path)}
    everything = discover(env=env, registry_names={x.recipient: "ops-x"})
    assert everything.age_recipients() == {x.recipient, default.recipient}
    assert everything.gnupghome == gpg_home.path
    only_x = everything.only_age(frozenset({x.recipient}))
    assert [(i.name, i.recipient) for i in only_x.age] == [("ops-x", x.recipient)]
    assert only_x.gnupghome is None  # no PGP either


def test_duplicate_key_listed_once_with_its_keyring_name(secret_service: SecretService) -> None:
    key = age_key()
    KeyringStore().put("ops-admin", key.secret)
    ids = discover(env={**os.environ, "SOPS_AGE_KEY": key.secret}, use_keyring=True)
    assert [(i.source, i.name) for i in ids.age] == [("SOPS_AGE_KEY", "ops-admin")]


def test_key_cmd_failure_and_malformed_variable(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"SOPS_AGE_KEY_CMD \(false\) failed with exit code 1"):
        discover(env={**os.environ, "SOPS_AGE_KEY_CMD": "false"})
    with pytest.raises(InputError, match=r"^SOPS_AGE_KEY:1: not a valid age identity"):
        discover(env={**os.environ, "SOPS_AGE_KEY": "AGE-SECRET-KEY-1NOTAKEY"})
    with pytest.raises(InputError, match="identity file not found"):
        discover(env={**os.environ, "SOPS_AGE_KEY_FILE": str(tmp_path / "missing")})


def test_gnupghome_that_is_not_a_directory_is_named_so(tmp_path: Path) -> None:
    from sopskit.identity.gpg import gnupghome

    fifo = tmp_path / "home.fifo"
    os.mkfifo(fifo)
    env = {"PATH": os.environ["PATH"]}
    assert gnupghome({**env, "GNUPGHOME": str(fifo)}) == (
        None, f"PGP: GNUPGHOME {fifo} is not a directory")
    missing = tmp_path / "none"
    assert gnupghome({**env, "GNUPGHOME": str(missing)}) == (
        None, f"PGP: {missing} does not exist")
