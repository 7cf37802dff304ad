"""With the rendered .sops.yaml, the real `sops encrypt` (run from an unrelated working
directory with --config) encrypts each sample path to exactly the recipients, crypt rule and
MAC mode that `sopskit recipients` reports."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import pytest

from sopskit.recipient import Recipient
from sopskit.sopsfile.document import parse
from sopskit.sopsfile.model import DEFAULT_CRYPT_RULE, CryptRule
from tests.helpers import GpgHome, run_cli, run_sops
from tests.registry.conftest import Keys, registry_text

PLAIN = {
    "yaml": b"apiVersion: v1\nkind: Secret\ndata:\n  password: aHVudGVyMg==\n",
    "json": b'{"kind": "Secret", "data": {"password": "x"}, "other": "y"}\n',
    "dotenv": b"PASSWORD=hunter2\nUSER=admin\n",
    "ini": b"[db]\npassword = hunter2\n",
    "binary": b"\x00\x01 some bytes\n",
}
FORMAT_OF = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".env": "dotenv",
             ".ini": "ini", ".bin": "binary"}
DIRS = ["clusters/production", "clusters/production/apps/db", "clusters/sandbox", "core",
        "services/x", "apps", "other", "deep/er/still"]
NAMES = ["secret.yaml", "values.yml", "config.json", "app.env", "db.ini", "blob.bin",
         "x.sops.yaml"]


def sample_paths() -> list[str]:
    """Every directory x name combination, thinned deterministically to 30 paths."""
    combos = [f"{d}/{n}" for d, n in itertools.product(DIRS, NAMES)]
    return [*combos[::2], "top.env", "other/readme.yaml"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, gpg_home: GpgHome) -> tuple[Path, dict]:
    from tests.helpers import age_key

    keys = Keys(age_key(), age_key(), age_key(), age_key())
    repo = tmp_path_factory.mktemp("int") / "repo"
    (repo / "keys").mkdir(parents=True)
    fp = gpg_home.fp  # type: ignore[attr-defined]
    bot = f"  release-bot:\n    type: pgp\n    fingerprint: {fp}\n    clusters: [production]\n"
    (repo / "keys" / "registry.yaml").write_text(registry_text(keys, extra_keys=bot))
    assert run_cli("--repo", repo, "config", "render").code == 0
    paths = sample_paths()
    out = run_cli("--repo", repo, "recipients", "--format", "json", *paths, cwd=repo)
    assert out.code == 1  # some samples match no rule, on purpose
    expected = {r["path"]: r for r in json.loads(out.stdout)}
    return repo, expected


def _fmt(path: str) -> str:
    return FORMAT_OF[os.path.splitext(path)[1]]


@pytest.mark.parametrize("relpath", sample_paths())
def test_sops_obeys_the_rendered_config(world: tuple[Path, dict], relpath: str,
                                        tmp_path: Path, gpg_home: GpgHome) -> None:
    repo, expected = world
    elsewhere = tmp_path / "unrelated-cwd"
    elsewhere.mkdir()
    fmt = _fmt(relpath)
    done = run_sops("--config", repo / ".sops.yaml", "encrypt", "--filename-override",
                    repo / relpath, env={"GNUPGHOME": str(gpg_home.path)}, cwd=elsewhere,
                    input=PLAIN[fmt])
    want = expected[relpath]
    if want["rule"] is None:
        assert done.returncode != 0
        assert b"no matching creation rules found" in done.stderr
        return
    assert done.returncode == 0, done.stderr
    doc = parse(done.stdout, path=relpath, fmt=fmt)  # type: ignore[arg-type]
    reported = {Recipient.pgp(r["recipient"]) if r["type"] == "pgp" else
                Recipient.age(r["recipient"]) for r in want["recipients"]}
    assert doc.metadata.recipients == reported
    crypt = want["crypt_rule"]
    expected_rule = CryptRule(crypt["kind"], crypt["value"]) if crypt else DEFAULT_CRYPT_RULE
    if fmt != "binary":
        assert doc.metadata.effective_crypt_rule == expected_rule
    assert doc.metadata.mac_only_encrypted == want["mac_only_encrypted"]


def test_a_real_file_path(world: tuple[Path, dict], tmp_path: Path) -> None:
    repo, expected = world
    target = repo / "clusters" / "sandbox" / "secret.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(PLAIN["yaml"])
    done = run_sops("--config", repo / ".sops.yaml", "encrypt", target, env={}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    doc = parse(done.stdout, path="secret.yaml", fmt="yaml")
    want = {Recipient.age(r["recipient"])
            for r in expected["clusters/sandbox/secret.yaml"]["recipients"]}
    assert doc.metadata.recipients == want
    assert doc.metadata.crypt_rule == CryptRule("encrypted_regex", "^(data|stringData)$")
    assert b"kind: Secret" in done.stdout  # outside data: plaintext, as the rule says
