"""An identity kept in a real Secret Service decrypts: natively, and through the real sops
with the key passed as SOPS_AGE_KEY in the child's environment (never a file)."""

from __future__ import annotations

from pathlib import Path

from sopskit import process
from sopskit.identity.discover import discover
from sopskit.sops.environment import child_env
from sopskit.sopsfile.datakey import recover_data_key
from sopskit.sopsfile.document import detect_format, parse
from sopskit.sopsfile.verify import verify_file
from tests.helpers import run_cli, run_sops, sops_binary
from tests.identity.secret_service import SecretService

PLAIN = b"db:\n    password: s3cr3t-value\n    port: 5432\n"


def _encrypted(tmp_path: Path, recipient: str) -> Path:
    plain = tmp_path / "secret.yaml"
    plain.write_bytes(PLAIN)
    done = run_sops("--encrypt", "--age", recipient, plain, env={})
    assert done.returncode == 0, done.stderr
    plain.write_bytes(done.stdout)
    return plain


def test_keyring_identity_decrypts_natively_and_through_sops(secret_service: SecretService,
                                                             tmp_path: Path) -> None:
    added = run_cli("identity", "add", "ops-admin", "--generate")
    assert added.code == 0, added.stderr
    path = _encrypted(tmp_path, added.stdout.strip())

    everything = discover(use_keyring=True)
    ids = everything.only_age(frozenset(i.recipient for i in everything.age
                                        if i.name == "ops-admin"))
    assert [i.source for i in ids.age] == ["keyring:ops-admin"]

    doc = parse(path.read_bytes(), path=str(path), fmt=detect_format(path))
    assert len(recover_data_key(doc.metadata, ids, path=str(path))) == 32
    report = verify_file(path, ids, require_mac=True)
    assert report.ok and report.mac_checked, report.problems

    env = child_env(ids)
    assert "SOPS_AGE_KEY" in env and "SOPS_AGE_KEY_FILE" not in env
    done = process.run([sops_binary(), "--decrypt", str(path)], env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == PLAIN

    assert run_cli("identity", "remove", "ops-admin").code == 0
    gone = discover(use_keyring=True)
    assert gone.find("ops-admin") is None
