"""Encrypting nothing is not success: a crypt rule that matches no key of the file.

sops 3.11 writes such a file without complaint (every value in plaintext, a valid MAC);
`encrypt` must refuse it unless asked, and `verify` and `audit` must report it.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import AgeKey, clean_env, run_cli, run_sops

K8S = "^(data|stringData)$"
CONFIG = '{"database": {"host": "db", "password": "hunter2-plain"}}\n'


def _repo(tmp_path: Path, age: AgeKey) -> Path:
    (tmp_path / ".sops.yaml").write_text(
        f"creation_rules:\n  - encrypted_regex: '{K8S}'\n    age: {age.recipient}\n",
        encoding="utf-8")
    (tmp_path / "config.json").write_text(CONFIG, encoding="utf-8")
    return tmp_path / "config.json"


def test_encrypt_refuses_a_rule_that_encrypts_nothing(tmp_path: Path, age: AgeKey) -> None:
    target = _repo(tmp_path, age)
    done = run_cli("encrypt", "-i", target, env=clean_env({"SOPS_AGE_KEY": age.secret}),
                   cwd=tmp_path)
    assert done.code == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "config.json" in lines[0] and f"encrypted_regex='{K8S}'" in lines[0]
    assert "--allow-no-encrypted-values" in lines[0] and "hunter2" not in lines[0]
    assert target.read_text(encoding="utf-8") == CONFIG  # nothing replaced


def test_encrypt_allows_it_when_asked_and_verify_reports_it(tmp_path: Path,
                                                            age: AgeKey) -> None:
    target = _repo(tmp_path, age)
    env = clean_env({"SOPS_AGE_KEY": age.secret})
    done = run_cli("encrypt", "-i", "--allow-no-encrypted-values", target, env=env,
                   cwd=tmp_path)
    assert done.code == 0, done.stderr
    assert "hunter2-plain" in target.read_text(encoding="utf-8")
    for extra_env in ({}, env):  # key-less, and with the key (the MAC itself is fine)
        verified = run_cli("verify", target, env=clean_env(extra_env), cwd=tmp_path)
        assert verified.code == 1, verified.stdout
        assert "no value is encrypted" in verified.stdout
        assert "[no-encrypted-values]" in verified.stdout
    # decrypt still works on such a file (it is the way out)
    assert run_cli("decrypt", target, env=env, cwd=tmp_path).code == 0


def test_file_sops_wrote_with_a_regex_it_ignores(tmp_path: Path, age: AgeKey) -> None:
    """An invalid regex is ignored by sops: it encrypts nothing and says nothing."""
    (tmp_path / "s.yaml").write_text("token: abc\n", encoding="utf-8")
    done = run_sops("encrypt", "--age", age.recipient, "--encrypted-regex", "(", "-i", "s.yaml",
                    env={}, cwd=tmp_path)
    assert done.returncode == 0
    verified = run_cli("verify", tmp_path / "s.yaml", cwd=tmp_path)
    assert verified.code == 1
    assert "not a valid RE2 regular expression" in verified.stdout
    assert "no value is encrypted" in verified.stdout


def test_audit_names_the_rule(tmp_path: Path, age: AgeKey) -> None:
    (tmp_path / "app.sops.json").write_text(CONFIG, encoding="utf-8")
    done = run_sops("encrypt", "--age", age.recipient, "--encrypted-regex", K8S, "-i",
                    "app.sops.json", env={}, cwd=tmp_path)
    assert done.returncode == 0
    audited = run_cli("audit", tmp_path, "--format", "json", cwd=tmp_path)
    assert "sops-no-encrypted-values" in audited.stdout, audited.stdout + audited.stderr


def test_empty_and_binary_files_are_not_reported(tmp_path: Path, age: AgeKey) -> None:
    """Nothing to protect is not a problem: an empty mapping, only empty strings, binary."""
    for name, text in (("e.yaml", "{}\n"), ("blank.yaml", "a: ''\n"), ("b.bin", "xyz")):
        (tmp_path / name).write_text(text, encoding="utf-8")
        done = run_sops("encrypt", "--age", age.recipient, "-i", name, env={}, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        verified = run_cli("verify", tmp_path / name, cwd=tmp_path)
        assert "no-encrypted-values" not in verified.stdout, (name, verified.stdout)
