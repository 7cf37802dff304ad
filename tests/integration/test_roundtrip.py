"""encrypt -> verify -> decrypt -> edit through the CLI, for every store, with the real sops."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import age_key, run_sops
from tests.integration.conftest import World

MARK = "s3cr3t-MARKER-old"
STORES = {
    "s.yaml": f"# top comment\nname: app\npassword: {MARK}\nlist:\n  - 1\n  - 2.5\nflag: yes\n"
              "nested:\n  on: true\n  empty: ''\n",
    "s.json": json.dumps({"name": "app", "password": MARK, "n": 3, "f": 1.5, "b": False,
                          "l": [1, {"k": "v"}]}, indent=2) + "\n",
    "s.env": f"NAME=app\nPASSWORD={MARK}\n# a comment\nEMPTY=\n",
    "s.ini": f"[db]\nuser = app\npassword = {MARK}\n\n[other]\nx = 1\n",
    "s.txt": f"line one\n{MARK}\n\x00binary-ish\n",
}


def sops_decrypt(world: World, path: Path) -> bytes:
    done = run_sops("decrypt", path, env={"SOPS_AGE_KEY_FILE": world.env["SOPS_AGE_KEY_FILE"]})
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("name", sorted(STORES))
def test_encrypt_verify_decrypt(world: World, name: str) -> None:
    path = world.write(f"apps/{name}", STORES[name])
    result = world.cli("encrypt", "-i", "--age", world.key.recipient, path)
    assert result.code == 0, result.stderr
    assert "MAC checked" in result.stderr
    assert MARK not in path.read_text(errors="replace")
    assert world.cli("verify", "--require-mac", path).code == 0
    native = world.cli("decrypt", path)
    via_sops = world.cli("decrypt", "--engine", "sops", path)
    assert native.code == via_sops.code == 0
    assert MARK in native.stdout
    assert via_sops.stdout.encode() == sops_decrypt(world, path)
    if not name.endswith(".yaml"):  # YAML: equal data, formatting may differ (next test)
        assert native.stdout.encode() == sops_decrypt(world, path)


@pytest.mark.parametrize("name", sorted(STORES))
def test_edit_with_a_real_editor(world: World, name: str, tmp_path: Path) -> None:
    path = world.write(f"apps/{name}", STORES[name])
    assert world.cli("encrypt", "-i", "--age", world.key.recipient, path).code == 0
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nsed -i 's/MARKER-old/MARKER-new/' \"$1\"\n")
    editor.chmod(0o755)
    result = world.cli("edit", path, env={**world.env, "EDITOR": str(editor)})
    assert result.code == 0, result.stderr
    assert "updated" in result.stderr
    plain = world.cli("decrypt", path).stdout
    assert "s3cr3t-MARKER-new" in plain and MARK not in plain
    assert world.cli("verify", "--require-mac", path).code == 0
    unchanged = world.cli("edit", path, env={**world.env, "EDITOR": "true"})
    assert unchanged.code == 0 and "unchanged" in unchanged.stderr
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".sopskit-")]


def test_failing_editor_names_the_users_file(world: World) -> None:
    """sops edits a temp copy; its failure is reported for the file the user named."""
    path = world.write("apps/s.yaml", "pw: one\n")
    assert world.cli("encrypt", "-i", "--age", world.key.recipient, path).code == 0
    before = path.read_bytes()
    result = world.cli("edit", path, env={**world.env, "EDITOR": "false"})
    assert result.code == 3
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("sopskit: error: apps/s.yaml: the editor could not be run"), last
    assert ".sopskit-" not in result.stderr
    assert path.read_bytes() == before


def test_yaml_decrypt_equals_sops_data(world: World) -> None:
    path = world.write("s.yaml", STORES["s.yaml"])
    assert world.cli("encrypt", "-i", "--age", world.key.recipient, path).code == 0
    from sopskit import yamlio

    ours = yamlio.load_all(world.cli("decrypt", path).stdout, path="x", rt=False)
    theirs = yamlio.load_all(sops_decrypt(world, path).decode(), path="x", rt=False)
    assert ours == theirs


def test_output_file_and_stdout(world: World) -> None:
    src = world.write("plain.env", "A=1\nB=secret-value-xyz\n")
    out = world.repo / "enc.env"
    assert world.cli("encrypt", "--age", world.key.recipient, src, "-o", out).code == 0
    assert src.read_text() == "A=1\nB=secret-value-xyz\n"
    assert "secret-value-xyz" not in out.read_text()
    printed = world.cli("encrypt", "--age", world.key.recipient, src)
    assert printed.code == 0 and "sops_mac=ENC[" in printed.stdout
    assert "MAC not checked" not in printed.stderr
    blind = world.cli("encrypt", "--age", age_key().recipient, src)  # not a key of ours
    assert blind.code == 0 and "sops_mac=ENC[" in blind.stdout
    assert "encrypted plain.env (MAC not checked: no key of yours)" in blind.stderr
    dec = world.repo / "dec.env"
    assert world.cli("decrypt", out, "-o", dec, "--force").code == 0
    assert dec.read_text() == "A=1\nB=secret-value-xyz\n"
    assert (dec.stat().st_mode & 0o777) == 0o600


def test_sops_yaml_at_repo_root_is_used_from_any_cwd(world: World) -> None:
    world.write(".sops.yaml", f"creation_rules:\n  - path_regex: ^k8s/.*\\.yaml$\n"
                              f"    age: {world.key.recipient}\n"
                              f"    encrypted_regex: ^(data|stringData)$\n")
    path = world.write("k8s/secret.yaml", "kind: Secret\nmetadata:\n  name: db\n"
                                          "stringData:\n  pw: hunter2-marker\n")
    sub = world.repo / "k8s"
    from tests.helpers import run_cli

    result = run_cli("--repo", world.repo, "encrypt", "-i", "secret.yaml", env=world.env, cwd=sub)
    assert result.code == 0, result.stderr
    text = path.read_text()
    assert "name: db" in text and "hunter2-marker" not in text
    assert "encrypted_regex: ^(data|stringData)$" in text


def test_no_recipients_anywhere_is_usage_error(world: World) -> None:
    path = world.write("s.yaml", "a: 1\n")
    result = world.cli("encrypt", "-i", path)
    assert result.code == 2
    assert "--age" in result.stderr


def test_editor_sees_user_home_and_no_keys(world: World, tmp_path: Path) -> None:
    path = world.write("s.env", "A=1\n")
    assert world.cli("encrypt", "-i", "--age", world.key.recipient, path).code == 0
    seen = tmp_path / "seen.txt"
    editor = tmp_path / "ed.sh"
    editor.write_text(f"#!/bin/sh\n(echo \"HOME=$HOME\"; env | grep -c '^SOPS_' ) > {seen}\n"
                      "echo B=2 >> \"$1\"\n")
    editor.chmod(0o755)
    env = {**world.env, "EDITOR": str(editor), "SOPS_AGE_KEY": world.key.secret}
    assert world.cli("edit", path, env=env).code == 0
    home_line, sops_vars = seen.read_text().splitlines()
    assert home_line == f"HOME={world.env['HOME']}"
    assert sops_vars == "0"
    assert world.cli("decrypt", path).stdout == "A=1\nB=2\n"


def test_identity_option_instead_of_environment(world: World) -> None:
    path = world.write("s.env", "TOKEN=id-option-secret\n")
    assert world.cli("encrypt", "-i", "--age", world.key.recipient, path).code == 0
    key_file = world.env["SOPS_AGE_KEY_FILE"]
    env = {k: v for k, v in world.env.items() if k != "SOPS_AGE_KEY_FILE"}
    assert world.cli("decrypt", path, env=env).code == 3
    result = world.cli("decrypt", "--identity", key_file, path, env=env)
    assert result.code == 0 and result.stdout == "TOKEN=id-option-secret\n"
    assert world.cli("verify", "--require-mac", "--identity", key_file, path, env=env).code == 0
