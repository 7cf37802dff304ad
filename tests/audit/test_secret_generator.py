"""kustomize secretGenerator sources (issue 10 §2): the env files and files a
kustomization turns into a Secret are Secret values, weak ones too; sops-encrypted ones
(which Flux decrypts) and files no generator reads are judged as usual."""

from __future__ import annotations

import json
from pathlib import Path

from tests.audit import fakes
from tests.audit.evasions import corpus_keys
from tests.audit.repos import commit, new_repo, sops_encrypt, write
from tests.helpers import AgeKey, run_cli


def test_generator_env_files_and_files_are_secret_values(tmp_path: Path, age: AgeKey) -> None:
    repo = new_repo(tmp_path / "r")
    keys = corpus_keys()
    write(repo, "apps/db/kustomization.yaml",
          "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
          "secretGenerator:\n  - name: db\n    envs: [secret.env]\n"
          "    files:\n      - tls.key=../certs/tls.key\n      - token.txt\n"
          "  - name: enc\n    envs:\n      - enc.sops.env\n")
    write(repo, "apps/db/secret.env", "# db login\nDB_USER=app\nDB_PASSWORD=weakpass\nEMPTY=\n")
    write(repo, "apps/db/token.txt", "abc123\n")
    write(repo, "apps/certs/tls.key", keys.ec)
    sops_encrypt(repo, "apps/db/enc.sops.env", f"DB_PASSWORD={fakes.password()}\n",
                 age=[age.recipient])
    write(repo, "apps/other/unused.env", "DB_USER=app\n")  # read by no generator
    commit(repo)
    res = run_cli("--repo", repo, "audit", "--format", "json", "--max-data-key-age", "100000")
    assert res.code == 1, res.stderr
    found = sorted((f["path"], f["line"], f["rule"], f["severity"])
                   for f in json.loads(res.stdout)["findings"])
    assert found == [
        ("apps/certs/tls.key", 1, "k8s-secret-plaintext", "critical"),
        ("apps/db/secret.env", 2, "k8s-secret-plaintext", "high"),
        ("apps/db/secret.env", 3, "k8s-secret-plaintext", "high"),
        ("apps/db/token.txt", 1, "k8s-secret-plaintext", "high"),
    ]
    assert "weakpass" not in res.stdout and "abc123" not in res.stdout


def test_an_env_line_with_no_key_is_not_echoed() -> None:
    """A secretGenerator env file line that is no KEY=value (a URL with credentials) is
    reported without its text: the part before `=` may be the secret itself."""
    url = "https://admin:" + "Hunter2Sup3rS3cret" + "@db.example.com/x?sslkey=Zr8kQ2vLp9"
    text = "DB_PASSWORD=" + "Qz7wX2vR9tL4pM8k" + f"\n{url}\n"
    from sopskit.audit.detectors import kubernetes
    from sopskit.audit.detectors.source import Source

    hits = list(kubernetes.source_values(Source("app/db.env", text), "env"))
    assert [(h.line, h.detail) for h in hits] == [
        (1, "secretGenerator env file value DB_PASSWORD"),
        (2, "secretGenerator env file value (a line with no key)")]
    assert not any("Hunter2" in h.detail for h in hits)
