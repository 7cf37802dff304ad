"""`sopskit audit` as a user runs it: exit codes, the three formats (JSON shape, SARIF valid
against the official schema), -o, --fail-on, and no secret value in any output."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from tests.audit import fakes
from tests.audit.repos import commit, new_repo, sops_encrypt, write
from tests.helpers import AgeKey, run_cli

# The official SARIF 2.1.0 schema (OASIS), vendored for offline tests, unchanged, from
# https://github.com/oasis-tcs/sarif-spec sarif-2.1/schema/sarif-schema-2.1.0.json at commit
# e0583813964ec43cea53b6b531b402866095ed1f (see data/README.md).
SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


@pytest.fixture
def planted(tmp_path: Path, age: AgeKey) -> tuple[Path, list[str]]:
    """A repo with a plaintext Secret, a token, a weak password, decoys and a sops file."""
    repo = new_repo(tmp_path / "repo")
    pw, token = fakes.password(), fakes.github()
    write(repo, "apps/db/secret.yaml", f"kind: Secret\nmetadata: {{name: db}}\nstringData:\n"
          f"  password: {pw}\n")
    write(repo, "ci/env", f"GH={token}\n")
    web = fakes.password()
    write(repo, "apps/web/values.yaml", f"auth:\n  password: {web}\n  token: ${{TOKEN}}\n"
          "  secret: hunter2\n")
    sops_encrypt(repo, "apps/db/real.sops.yaml", f"kind: Secret\nstringData:\n  p: {pw}x\n",
                 age=[age.recipient], extra=("--encrypted-regex", "^(data|stringData)$"))
    commit(repo)
    return repo, [pw, token, web]


def _no_leak(text: str, values: list[str]) -> None:
    for v in values:
        assert v not in text
        assert v[:8] not in text


def test_text_report_groups_by_file_and_exits_1(planted: tuple[Path, list[str]]) -> None:
    repo, values = planted
    res = run_cli("--repo", repo, "audit")
    assert res.code == 1, res.stderr
    lines = res.stdout.splitlines()
    assert "apps/db/secret.yaml" in lines and "ci/env" in lines
    assert any("k8s-secret-plaintext" in ln and " 4 " in ln for ln in lines)
    assert lines[-1].startswith("3 findings (3 high) in 4 files scanned")
    assert "\x1b[" not in res.stdout  # no colour when not a terminal
    _no_leak(res.stdout + res.stderr, values)


def test_json_report_is_the_contract(planted: tuple[Path, list[str]]) -> None:
    repo, values = planted
    res = run_cli("--repo", repo, "audit", "--format", "json")
    assert res.code == 1
    doc = json.loads(res.stdout)
    assert set(doc) == {"version", "summary", "findings"} and doc["version"] == 1
    assert doc["summary"] == {"files_scanned": 4, "files_skipped": 0, "findings": 3,
                              "by_severity": {"critical": 0, "high": 3, "medium": 0, "low": 0}}
    for f in doc["findings"]:
        assert set(f) == {"rule", "category", "severity", "path", "line", "message",
                          "fingerprint"}
    rules = {(f["path"], f["rule"], f["line"]) for f in doc["findings"]}
    assert rules == {("apps/db/secret.yaml", "k8s-secret-plaintext", 4),
                     ("ci/env", "github-token", 1),
                     ("apps/web/values.yaml", "generic-secret", 2)}
    _no_leak(res.stdout, values)


def test_sarif_is_valid_against_the_official_schema(planted: tuple[Path, list[str]]) -> None:
    repo, values = planted
    res = run_cli("--repo", repo, "audit", "--format", "sarif")
    doc = json.loads(res.stdout)
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(doc)
    run = doc["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    # the same three findings as the JSON report (an empty results list is schema-valid too)
    assert res.code == 1
    assert sorted((r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                   r["ruleId"]) for r in run["results"]) == [
        ("apps/db/secret.yaml", "k8s-secret-plaintext"),
        ("apps/web/values.yaml", "generic-secret"), ("ci/env", "github-token")]
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        assert len(result["partialFingerprints"]["sopskitFingerprint/v1"]) == 32
        assert result["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1
    _no_leak(res.stdout, values)


def test_fail_on_and_output_file(planted: tuple[Path, list[str]], tmp_path: Path) -> None:
    repo, values = planted
    assert run_cli("--repo", repo, "audit", "--fail-on", "critical").code == 0
    assert run_cli("--repo", repo, "audit", "--fail-on", "low").code == 1
    out = tmp_path / "report.sarif"
    res = run_cli("--repo", repo, "audit", "--format", "sarif", "-o", out)
    assert res.code == 1 and res.stdout == ""
    assert res.stderr.startswith("3 findings")
    assert json.loads(out.read_text())["version"] == "2.1.0"
    _no_leak(out.read_text(), values)


def test_usage_and_operational_errors(planted: tuple[Path, list[str]]) -> None:
    repo, _ = planted
    both = run_cli("--repo", repo, "audit", "--staged", "--since", "HEAD")
    assert both.code == 2 and "either --staged or --since" in both.stderr
    assert run_cli("--repo", repo, "audit", "--format", "xml").code == 2
    bad_rev = run_cli("--repo", repo, "audit", "--since", "no-such-rev")
    assert bad_rev.code == 2 and "--since 'no-such-rev': no such commit" in bad_rev.stderr
    bad_baseline = write(repo, "b.json", "{not json")
    res = run_cli("--repo", repo, "audit", "--baseline", bad_baseline)
    assert res.code == 3 and "baseline is not valid JSON" in res.stderr
    # a repository that is not there is a usage error, not "0 findings" (exit 0)
    gone = run_cli("--repo", repo / "no-such-dir", "audit")
    assert gone.code == 2 and "the repository is not a directory" in gone.stderr


def test_clean_repository_exits_0(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    write(repo, "a.yaml", "kind: ConfigMap\ndata:\n  password_policy: strong\n")
    commit(repo)
    res = run_cli("--repo", repo, "audit")
    assert res.code == 0, res.stdout
    assert res.stdout.strip() == "0 findings in 1 files scanned"


def test_baseline_help_shows_its_own_usage(tmp_path: Path) -> None:
    for sub in ("create", "update"):
        res = run_cli("--repo", tmp_path, "audit", "baseline", sub, "--help")
        assert res.code == 0
        assert res.stdout.splitlines()[0] == \
            f"Usage: sopskit audit baseline {sub} [OPTIONS] [PATHS]..."
    res = run_cli("--repo", tmp_path, "audit", "baseline", "update", "--bogus")
    assert res.code == 2 and "Usage: sopskit audit baseline update [OPTIONS]" in res.stderr


def test_a_file_name_cannot_forge_report_lines(tmp_path: Path) -> None:
    """A committer picks file names: a newline in one stays on the finding's own line."""
    repo = new_repo(tmp_path / "r")
    write(repo, "a\nFAKE  0 findings.yaml", "kind: Secret\nstringData:\n  password: Zr8kQ2mW9xLp4Tn7q\n")
    done = run_cli("--repo", repo, "audit")
    assert done.code == 1
    assert "a\\nFAKE  0 findings.yaml" in done.stdout.splitlines()
    assert not any(line.startswith("FAKE") for line in done.stdout.splitlines())
