"""set / unset / decrypt --extract against files the real sops wrote, checked by the real sops.

Only the edited value's line, `lastmodified` and `mac` may change; the real `sops decrypt`
must accept the result (MAC included) and show the new content.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from sopskit.sopsfile.treepath import parse_path
from tests.helpers import UPSTREAM, AgeKey, GpgHome, clean_env, read_terminal, run_cli, run_sops

YAML = """\
apiVersion: v1
kind: Secret
metadata:
    name: db
# the credentials
stringData:
    USER: admin
    PASSWORD: old-pass-1
    hosts:
        - a.example
        - b.example
"""


def sops_encrypt(path: Path, age: AgeKey, *extra: str) -> None:
    done = run_sops("encrypt", "-i", "--age", age.recipient, *extra, path, env={})
    assert done.returncode == 0, done.stderr


def sops_decrypt(path: Path, age: AgeKey) -> str:
    done = run_sops("decrypt", path, env={"SOPS_AGE_KEY": age.secret})
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    a, b = before.splitlines(), after.splitlines()
    assert len(a) == len(b)
    return [(x, y) for x, y in zip(a, b, strict=True) if x != y]


def cli(tmp_path: Path, age: AgeKey, *args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return run_cli("--repo", tmp_path, *args, input=stdin,
                   env=clean_env({"SOPS_AGE_KEY": age.secret}))


@pytest.fixture
def secret(tmp_path: Path, age: AgeKey) -> Path:
    path = tmp_path / "secret.yaml"
    path.write_text(YAML)
    sops_encrypt(path, age, "--encrypted-regex", "^(data|stringData)$")
    return path


def test_set_changes_one_ciphertext_only(tmp_path: Path, age: AgeKey, secret: Path) -> None:
    before = secret.read_text()
    done = cli(tmp_path, age, "set", secret, '["stringData"]["PASSWORD"]', "--value-stdin",
               stdin="new-pass-2\n")
    assert done.code == 0, done.stderr
    assert "new-pass-2" not in done.stdout + done.stderr + secret.read_text()
    changed = changed_lines(before, secret.read_text())
    # lastmodified changes unless sops wrote the file in the same second
    assert [a.split(":")[0].strip() for a, _ in changed if "lastmodified" not in a] == [
        "PASSWORD", "mac"]
    plain = sops_decrypt(secret, age)
    assert "PASSWORD: new-pass-2\n" in plain and "USER: admin" in plain
    assert plain.replace("new-pass-2", "old-pass-1") == YAML


def test_set_new_key_and_plaintext_path(tmp_path: Path, age: AgeKey, secret: Path) -> None:
    done = cli(tmp_path, age, "set", secret, '["stringData"]["TOKEN"]', "--value", "tok-9")
    assert done.code == 0, done.stderr
    done = cli(tmp_path, age, "set", secret, '["metadata"]["namespace"]', "--value", "prod")
    assert done.code == 0 and "plaintext" in done.stderr
    text = secret.read_text()
    assert "namespace: prod" in text and "tok-9" not in text
    assert "TOKEN: tok-9" in sops_decrypt(secret, age)


def test_set_json_value_and_unchanged(tmp_path: Path, age: AgeKey, secret: Path) -> None:
    done = cli(tmp_path, age, "set", secret, '["stringData"]["port"]', "--json",
               "--value", "5432")
    assert done.code == 0, done.stderr
    assert "type:int" in secret.read_text()
    before = secret.read_text()
    again = cli(tmp_path, age, "set", secret, '["stringData"]["port"]', "--json",
                "--value", "5432")
    assert again.code == 0 and "unchanged" in again.stderr
    assert secret.read_text() == before
    assert json.loads(run_sops("decrypt", "--extract", '["stringData"]["port"]',
                               "--output-type", "json", secret,
                               env={"SOPS_AGE_KEY": age.secret}).stdout) == 5432


def test_unset_removes_only_that_key(tmp_path: Path, age: AgeKey, secret: Path) -> None:
    before = secret.read_text()
    done = cli(tmp_path, age, "unset", secret, '["stringData"]["USER"]')
    assert done.code == 0, done.stderr
    after = secret.read_text()
    kept = [ln for ln in before.splitlines() if not ln.lstrip().startswith(
        ("USER:", "lastmodified:", "mac:"))]
    assert [ln for ln in after.splitlines()
            if not ln.lstrip().startswith(("lastmodified:", "mac:"))] == kept
    assert "USER" not in sops_decrypt(secret, age)
    missing = cli(tmp_path, age, "unset", secret, '["stringData"]["USER"]')
    assert missing.code == 2 and "secret.yaml" in missing.stderr and "no such key" in missing.stderr
    assert cli(tmp_path, age, "unset", "--idempotent", secret, '["stringData"]["USER"]').code == 0


@pytest.mark.parametrize(("name", "plain", "tree_path", "check"), [
    ("app.env", "A=1\n#note\nTOKEN=abc\n", '["TOKEN"]', "TOKEN=xyz-new"),
    ("app.json", '{"a": {"b": "c", "n": 1.5}, "l": [1, "two"]}', '["a"]["b"]', '"b": "xyz-new"'),
    ("app.ini", "[db]\nuser = u\npass = p\n", '["db"]["pass"]', "pass = xyz-new"),
])
def test_other_stores(tmp_path: Path, age: AgeKey, name: str, plain: str, tree_path: str,
                      check: str) -> None:
    path = tmp_path / name
    path.write_text(plain)
    sops_encrypt(path, age)
    before = path.read_text()
    done = cli(tmp_path, age, "set", path, tree_path, "--value-stdin", stdin="xyz-new")
    assert done.code == 0, done.stderr
    changed = [a for a, _ in changed_lines(before, path.read_text()) if "lastmodified" not in a]
    assert len(changed) == 2 and "mac" in changed[1]
    assert check in sops_decrypt(path, age)


def test_dotenv_key_that_would_read_back_as_another(tmp_path: Path, age: AgeKey) -> None:
    path = tmp_path / "app.env"
    path.write_text("A=one\n")
    sops_encrypt(path, age)
    before = path.read_text()
    for key in ('["A=B"]', '["#C"]', '["x\ny"]'):
        done = cli(tmp_path, age, "set", path, key, "--value", "v")
        assert done.code == 2 and "cannot be a dotenv key" in done.stderr, done.stderr
    assert path.read_text() == before


def test_extract(tmp_path: Path, age: AgeKey, secret: Path) -> None:
    one = cli(tmp_path, age, "decrypt", "--extract", '["stringData"]["PASSWORD"]', secret)
    assert (one.code, one.stdout) == (0, "old-pass-1")
    sub = cli(tmp_path, age, "decrypt", "--extract", '["stringData"]', secret)
    real = run_sops("decrypt", "--extract", '["stringData"]', secret,
                    env={"SOPS_AGE_KEY": age.secret})
    assert sub.stdout == real.stdout.decode()
    item = cli(tmp_path, age, "decrypt", "--extract", '["stringData"]["hosts"][1]', secret)
    assert item.stdout == "b.example"
    bad = cli(tmp_path, age, "decrypt", "--extract", '["stringData"]["nope"]', secret)
    assert bad.code == 2 and "no such key" in bad.stderr


def test_no_key_and_bad_input(tmp_path: Path, age: AgeKey, secret: Path) -> None:
    before = secret.read_text()
    nokey = run_cli("--repo", tmp_path, "set", secret, '["stringData"]["USER"]', "--value", "x",
                    env=clean_env())
    assert nokey.code == 3 and "no key you have can recover the data key" in nokey.stderr
    bad = cli(tmp_path, age, "set", secret, '["stringData"', "--value", "x")
    assert bad.code == 2 and "Traceback" not in bad.stderr
    meta = cli(tmp_path, age, "set", secret, '["sops"]["mac"]', "--value", "x")
    assert meta.code == 2 and "metadata" in meta.stderr
    nostdin = cli(tmp_path, age, "set", secret, '["stringData"]["USER"]')
    assert nostdin.code == 2 and "--value-stdin" in nostdin.stderr
    binary = subprocess.run([sys.executable, "-m", "sopskit", "--repo", str(tmp_path), "set",
                             str(secret), '["stringData"]["USER"]', "--value-stdin"],
                            input=b"\xff\xfe-value\n", capture_output=True, check=False,
                            env=clean_env({"SOPS_AGE_KEY": age.secret}), timeout=120)
    assert binary.returncode == 2 and b"not valid UTF-8" in binary.stderr, binary.stderr
    assert secret.read_text() == before


@pytest.mark.parametrize(("text", "parsed"), [
    ('["data"]["password"]', ("data", "password")),
    ("['a b'][0][\"c[d]\"]", ("a b", 0, "c[d]")),
    ("[12]", (12,)),
])
def test_parse_path(text: str, parsed: tuple[object, ...]) -> None:
    assert parse_path(text) == parsed


def test_set_prompts_without_echo(tmp_path: Path, age: AgeKey, secret: Path) -> None:
    """On a terminal the value is asked for twice and never echoed."""
    env = clean_env({"SOPS_AGE_KEY": age.secret})
    pid, fd = pty.fork()
    if pid == 0:  # the child: sopskit on a real pseudo-terminal
        os.execve(sys.executable, [sys.executable, "-m", "sopskit", "--repo", str(tmp_path),
                                   "set", str(secret), '["stringData"]["PASSWORD"]'], env)
    seen = b""
    for prompt in (b"Value:", b"confirmation:"):  # answer each prompt once it is shown
        while prompt not in seen:
            seen += os.read(fd, 1024)
        os.write(fd, b"typed-pass-7\n")
    seen += read_terminal(fd)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, seen
    assert b"typed-pass-7" not in seen and b"set [" in seen
    assert "PASSWORD: typed-pass-7" in sops_decrypt(secret, age)


@pytest.mark.parametrize(("name", "tree_path", "check"), [
    ("example.yaml", '["app2"]["db"]["password"]', "        password: pgp-new-1\n"),
    ("comments.enc.yaml", '["lorem"]', "lorem: pgp-new-1\n"),
    ("format.enc.json", '["foo"]', '"foo": "pgp-new-1"'),
    ("format.enc.env", '["foo "]', "foo =pgp-new-1\n"),
])
def test_set_on_upstream_pgp_vectors(tmp_path: Path, upstream_gpg: GpgHome, name: str,
                                     tree_path: str, check: str) -> None:
    """The sops project's own files (PGP, comments, lists, multi-line values), the data key
    unwrapped by the real gpg; the real sops must accept the result."""
    path = tmp_path / name
    path.write_bytes((UPSTREAM / name).read_bytes())
    env = clean_env({"GNUPGHOME": str(upstream_gpg.path)})
    before = sops_decrypt_env(path, env)
    done = run_cli("--repo", tmp_path, "set", path, tree_path, "--value", "pgp-new-1", env=env)
    assert done.code == 0, done.stderr
    after = sops_decrypt_env(path, env)
    assert check in after and after != before
    old_value = run_cli("--repo", tmp_path, "decrypt", "--extract", tree_path,
                        UPSTREAM / name, env=env).stdout
    assert after.replace("pgp-new-1", old_value, 1) == before


def sops_decrypt_env(path: Path, env: dict[str, str]) -> str:
    done = run_sops("decrypt", path, env={"GNUPGHOME": env["GNUPGHOME"]})
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


def test_set_keeps_an_older_layout(tmp_path: Path, age: AgeKey, secret: Path) -> None:
    """A file laid out by an older sops (yaml.v2: `-   recipient:`, single-quoted
    timestamp) keeps its layout: the diff is the value, lastmodified and mac lines only."""
    text = secret.read_text()
    old = (text.replace("        - recipient:", "    -   recipient:")
           .replace("          enc: |", "        enc: |")
           .replace('lastmodified: "', "lastmodified: '"))
    old = "\n".join(ln[:-1] + "'" if ln.lstrip().startswith("lastmodified: '") else ln
                    for ln in old.split("\n"))
    old = old.replace("\n            ", "\n          ")  # the armored lines follow `enc: |`
    assert old != text
    secret.write_text(old)
    assert sops_decrypt(secret, age) == sops_decrypt(secret, age)  # sops accepts the layout
    done = cli(tmp_path, age, "set", secret, '["stringData"]["PASSWORD"]', "--value", "np-3")
    assert done.code == 0, done.stderr
    changed = [a.strip().split(":")[0] for a, _ in changed_lines(old, secret.read_text())]
    assert [c for c in changed if c != "lastmodified"] == ["PASSWORD", "mac"]
    assert "PASSWORD: np-3" in sops_decrypt(secret, age)
