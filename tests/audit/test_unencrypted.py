"""A file whose name promises encryption but has no sops metadata: default names, and
without a registry the .sops.yaml creation rules that select only such names."""

from __future__ import annotations

import json
from pathlib import Path

from tests.audit.repos import commit, new_repo, write
from tests.helpers import run_cli


def _rules(repo: Path) -> set[tuple[str, str]]:
    res = run_cli("--repo", repo, "audit", "--format", "json", "--fail-on", "low")
    return {(f["path"], f["rule"]) for f in json.loads(res.stdout)["findings"]}


def test_sops_config_rule_that_selects_encrypted_names(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    write(repo, ".sops.yaml", "creation_rules:\n  - path_regex: secrets/.*\\.sops$\n"
          "    age: age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq\n"
          "  - path_regex: clusters/.*\\.yaml$\n"
          "    age: age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq\n")
    write(repo, "secrets/db.sops", "just text\n")  # promised by rule 0, not encrypted
    write(repo, "clusters/app/deploy.yaml", "kind: Deployment\n")  # rule 1: any manifest
    write(repo, "apps/x.enc.json", "{}\n")  # the default names promise encryption too
    write(repo, ".sops.yaml.bak", "x\n")
    commit(repo)
    assert _rules(repo) == {("secrets/db.sops", "unencrypted-file"),
                            ("apps/x.enc.json", "unencrypted-file")}


def test_registry_patterns_never_promise_the_sops_config(tmp_path: Path) -> None:
    """`**/*.sops.*` matches `.sops.yaml` (`*` may match nothing); sops' config is no secret."""
    repo = new_repo(tmp_path / "r")
    (repo / "clusters" / "sandbox").mkdir(parents=True)
    assert run_cli("init", cwd=repo).code == 0  # registry with the default encrypted_files
    write(repo, "clusters/sandbox/.sops.yaml", "creation_rules: []\n")
    write(repo, "clusters/sandbox/db.sops.yaml", "kind: Secret\n")
    commit(repo)
    assert _rules(repo) == {("clusters/sandbox/db.sops.yaml", "unencrypted-file")}
