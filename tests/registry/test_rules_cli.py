"""`sopskit rules list|add|move|remove`, `recipients DIR|GLOB` and `init`'s report of secrets no
rule covers, run as a user runs them: real sops files in a real git repository."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sopskit.registry.schema import load_registry
from tests.helpers import age_key, clean_env, git_repo, run_cli, run_sops
from tests.registry.conftest import Keys

REG = Path("keys") / "registry.yaml"


def _encrypt(repo: Path, rel: str, text: str, recipient: str) -> None:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    done = run_sops("encrypt", "--age", recipient, "-i", rel, env=clean_env(), cwd=repo)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def secrets(repo: Path, keys: Keys) -> Path:
    """Sops files under a cluster, a base, and a directory no rule covers."""
    _encrypt(repo, "clusters/sandbox/app.env", "TOKEN=x1\n", keys.flux_sandbox.recipient)
    _encrypt(repo, "core/web/app.env", "TOKEN=x2\n", keys.flux_sandbox.recipient)
    _encrypt(repo, "core/db/creds.sops.yaml", "data:\n  password: cDQ=\n",
             keys.admin.recipient)
    _encrypt(repo, "legacy/old/creds.yaml", "stringData:\n  a: b\n", keys.admin.recipient)
    return repo


def test_list_shows_files_per_rule_and_a_rule_that_never_applies(secrets: Path) -> None:
    listed = run_cli("rules", "list", "--format", "json", cwd=secrets)
    assert listed.code == 0, listed.stderr
    rules = json.loads(listed.stdout)
    assert [r["path"] for r in rules] == ["clusters/production/**", "clusters/sandbox/**",
                                          "{core,services,apps}/**", "**/*.env"]
    assert rules[1]["files"] == ["clusters/sandbox/app.env"]
    assert rules[2]["files"] == ["core/db/creds.sops.yaml", "core/web/app.env"]
    assert rules[2]["recipients"] == ["flux-production", "flux-sandbox", "ops-admin"]
    assert rules[3]["crypt_rule"] is None and rules[3]["files"] == []
    assert rules[3]["preempted"] == [{"path": "clusters/sandbox/app.env", "by": 1},
                                     {"path": "core/web/app.env", "by": 2}]
    # clusters/sandbox/app.env gets the same keys either way; core/web/app.env does not
    assert "e.g. core/web/app.env by rules[2]" in rules[3]["warning"]
    assert all(r["warning"] is None for r in rules[:3])
    # the text view warns on stderr and says how to fix it
    text = run_cli("rules", "list", cwd=secrets)
    assert text.stdout.splitlines()[0].split()[:5] == ["#", "PATH", "CLUSTERS", "CRYPT",
                                                       "(YAML/JSON)"]
    assert "rules[3] (**/*.env) never applies" in text.stderr
    assert "sopskit rules move 3 --before 2" in text.stderr


def test_move_fixes_order_and_keeps_comments(secrets: Path) -> None:
    before = (secrets / REG).read_text()
    moved = run_cli("rules", "move", "3", "--before", "0", cwd=secrets)
    assert moved.code == 0, moved.stderr
    assert "rules[3] is now rules[0]" in moved.stderr
    after = (secrets / REG).read_text()
    assert "# dotenv: encrypt every value" in after and "# bases go to every cluster" in after
    assert sorted(after.splitlines()) == sorted(before.splitlines())
    rules = json.loads(run_cli("rules", "list", "--format", "json", cwd=secrets).stdout)
    assert rules[0]["path"] == "**/*.env"
    assert rules[0]["files"] == ["clusters/sandbox/app.env", "core/web/app.env"]
    assert all(r["warning"] is None for r in rules)
    assert "never applies" not in run_cli("rules", "list", cwd=secrets).stderr


def test_add_inserts_validates_and_refuses_a_shadowed_rule(secrets: Path) -> None:
    path = secrets / REG
    added = run_cli("rules", "add", "legacy/**", "--clusters", "sandbox,production",
                    "--after", "1", "--encrypt-all", "--description", "old apps", cwd=secrets)
    assert added.code == 0, added.stderr
    assert "added rules[2] legacy/**" in added.stderr
    rule = load_registry(path).rules[2]
    assert (rule.path, rule.clusters, rule.crypt_explicit, rule.crypt_rule) == (
        "legacy/**", ("sandbox", "production"), True, None)
    assert rule.description == "old apps"
    assert "    clusters: [sandbox, production]" in path.read_text()
    # a rule the earlier ones already take completely is refused, naming the one that does
    text = path.read_text()
    shadowed = run_cli("rules", "add", "clusters/sandbox/apps/**", "--clusters", "sandbox",
                       cwd=secrets)
    assert shadowed.code == 3
    assert "nothing was written" in shadowed.stderr
    assert "matched first by rules[1] ('clusters/sandbox/**')" in shadowed.stderr
    # inserting a broad rule first would shadow later ones: refused too
    broad = run_cli("rules", "add", "**", "--clusters", "sandbox", "--before", "0",
                    cwd=secrets)
    assert broad.code == 3 and "can never match" in broad.stderr
    assert path.read_text() == text
    # an unknown cluster, a position that does not exist, two crypt options
    unknown = run_cli("rules", "add", "x/**", "--clusters", "staging", cwd=secrets)
    assert unknown.code == 3 and "staging" in unknown.stderr
    nowhere = run_cli("rules", "add", "x/**", "--clusters", "sandbox", "--before", "9",
                      cwd=secrets)
    assert nowhere.code == 2 and "there is no rule 9" in nowhere.stderr
    newline = run_cli("rules", "add", "x/\n**", "--clusters", "sandbox", cwd=secrets)
    assert newline.code == 3 and "control character U+000A at column 3" in newline.stderr
    two = run_cli("rules", "add", "x/**", "--clusters", "sandbox", "--encrypt-all",
                  "--encrypted-regex", "^a$", cwd=secrets)
    assert two.code == 2 and "at most one crypt option" in two.stderr
    assert path.read_text() == text


def test_remove(secrets: Path) -> None:
    removed = run_cli("rules", "remove", "3", cwd=secrets)
    assert removed.code == 0, removed.stderr
    assert "removed rules[3] **/*.env" in removed.stderr
    assert [r.path for r in load_registry(secrets / REG).rules] == [
        "clusters/production/**", "clusters/sandbox/**", "{core,services,apps}/**"]
    assert run_cli("rules", "remove", "7", cwd=secrets).code == 2


def test_recipients_of_a_directory_and_a_glob(secrets: Path) -> None:
    whole = run_cli("recipients", "--format", "json", ".", cwd=secrets)
    assert whole.code == 1  # legacy/ has no rule
    rows = {r["path"]: r for r in json.loads(whole.stdout)}
    assert sorted(rows) == ["clusters/sandbox/app.env", "core/db/creds.sops.yaml",
                            "core/web/app.env", "legacy/old/creds.yaml"]
    assert rows["legacy/old/creds.yaml"]["rule"] is None
    core = run_cli("recipients", "core", cwd=secrets)
    assert core.code == 0 and core.stdout.startswith("core/db/creds.sops.yaml: rules[2]")
    assert "core/web/app.env: rules[2]" in core.stdout
    globbed = run_cli("recipients", "--format", "json", "clusters/**/*.env", cwd=secrets)
    assert globbed.code == 0
    assert [r["path"] for r in json.loads(globbed.stdout)] == ["clusters/sandbox/app.env"]
    empty = run_cli("recipients", "apps/**", cwd=secrets)
    assert empty.code == 0 and "apps/**: no secret files there" in empty.stderr


def test_init_reports_secret_directories_no_rule_covers(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "r")
    for name in ("sandbox", "production"):
        (repo / "clusters" / name).mkdir(parents=True)
    _encrypt(repo, "clusters/sandbox/app.sops.yaml", "data:\n  a: Yg==\n", age_key().recipient)
    _encrypt(repo, "services/db/creds.sops.yaml", "data:\n  a: Yg==\n", age_key().recipient)
    done = run_cli("init", cwd=repo)
    assert done.code == 0, done.stderr
    assert ("services/db/: 1 secret file(s) match no rule (e.g. services/db/creds.sops.yaml);"
            " add one: sopskit rules add 'services/db/**' --clusters NAME[,NAME]") in done.stderr
    assert "clusters/sandbox/:" not in done.stderr


def test_hostile_globs_are_one_line_usage_errors(secrets: Path) -> None:
    """A name too long for the system, braces nested thousands deep, an unclosed class:
    one short line and exit 2 (recipients) or 3 (the registry stays as it was), never exit 4."""
    deep = "{" * 3000 + "a" + "}" * 3000
    for pattern in (deep, "[" * 500):
        done = run_cli("recipients", pattern, cwd=secrets)
        assert done.code == 2, done.stderr
        assert len(done.stderr) < 300 and "not a valid glob" in done.stderr
    long_name = run_cli("recipients", "x" * 20000 + "*", cwd=secrets)
    assert long_name.code in (0, 1), long_name.stderr
    before = (secrets / REG).read_text()
    refused = run_cli("rules", "add", deep, "--clusters", "sandbox", cwd=secrets)
    assert refused.code == 3 and "braces nested more than 32 deep" in refused.stderr
    assert len(refused.stderr) < 600
    assert (secrets / REG).read_text() == before
