"""Post-quantum age (age1pq1 recipients, AGE-SECRET-KEY-PQ-1 identities, sops >= 3.11).

sops reads them; pyrage cannot. sopskit hands such identities to sops, accepts such
recipients, and says plainly that its native engine cannot check files only they open.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sopskit.errors import InputError
from sopskit.identity.parse import parse_keys_text
from sopskit.registry import fields
from tests.helpers import AgeKey, clean_env, run_cli, run_sops
from tests.pqage import PqKey, pq_key


@pytest.fixture(scope="module")
def pq() -> PqKey:
    return pq_key()


def _pq_file(tmp_path: Path, pq: PqKey) -> Path:
    target = tmp_path / "s.yaml"
    target.write_text("token: pq-secret-1\n", encoding="utf-8")
    done = run_sops("encrypt", "--age", pq.recipient, "-i", target.name, env={}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    return target


def test_decrypt_hands_the_pq_identity_to_sops(tmp_path: Path, pq: PqKey) -> None:
    target = _pq_file(tmp_path, pq)
    keys = tmp_path / "keys.txt"
    keys.write_text(f"# post-quantum\n{pq.secret}\n", encoding="utf-8")
    done = run_cli("decrypt", "--identity", keys, target, cwd=tmp_path)
    assert done.code == 0, done.stderr
    assert done.stdout == "token: pq-secret-1\n"
    via_env = run_cli("decrypt", target, env=clean_env({"SOPS_AGE_KEY": pq.secret}),
                      cwd=tmp_path)
    assert via_env.code == 0 and "pq-secret-1" in via_env.stdout


def test_verify_says_what_the_native_engine_cannot_check(tmp_path: Path, pq: PqKey) -> None:
    target = _pq_file(tmp_path, pq)
    env = clean_env({"SOPS_AGE_KEY": pq.secret})
    assert run_cli("verify", target, env=env, cwd=tmp_path).code == 0  # structure is fine
    strict = run_cli("verify", "--require-mac", target, env=env, cwd=tmp_path)
    assert strict.code == 1
    assert "Post-quantum age recipients (age1pq1...) are opened by sops only" in strict.stdout
    assert pq.secret not in strict.stdout + strict.stderr


def test_encrypt_to_a_pq_recipient(tmp_path: Path, pq: PqKey, age: AgeKey) -> None:
    plain = tmp_path / "app.env"
    plain.write_text("TOKEN=abc\n", encoding="utf-8")
    done = run_cli("encrypt", "-i", "--age", pq.recipient, "--age", age.recipient, plain,
                   env=clean_env({"SOPS_AGE_KEY": age.secret}), cwd=tmp_path)
    assert done.code == 0, done.stderr
    assert pq.recipient in plain.read_text(encoding="utf-8")


def test_registry_accepts_a_pq_recipient(pq: PqKey) -> None:
    assert fields.age_recipient(pq.recipient) == pq.recipient
    with pytest.raises(ValueError, match="post-quantum"):
        fields.age_recipient(pq.recipient[:100])


def test_keys_file_parsing(pq: PqKey) -> None:
    found = parse_keys_text(f"{pq.secret}\n", source="t")
    assert found.pq == [pq.secret] and found.age == []
    with pytest.raises(InputError) as err:
        parse_keys_text("AGE-SECRET-KEY-PQ-1NOTBECH32!\n", source="t")
    assert err.value.line == 1 and "NOTBECH32" not in str(err.value)


def test_identity_list_counts_pq_identities(tmp_path: Path, pq: PqKey) -> None:
    done = run_cli("identity", "list", env=clean_env({"SOPS_AGE_KEY": pq.secret}),
                   cwd=tmp_path)
    assert done.code == 0, done.stderr
    assert "1 post-quantum age identity" in done.stdout + done.stderr
    assert pq.secret not in done.stdout + done.stderr
