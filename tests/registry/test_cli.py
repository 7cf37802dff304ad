"""The registry commands as a user runs them (a subprocess in a real git repository)."""

from __future__ import annotations

import difflib
import json
import stat
from pathlib import Path

from sopskit.registry.schema import load_registry
from tests.helpers import GpgHome, age_key, clean_env, git_repo, run_cli, run_sops
from tests.registry.conftest import Keys

REG = Path("keys") / "registry.yaml"


def changes(before: str, after: str) -> list[str]:
    """The lines removed ('- ') and added ('+ ') between two texts."""
    return [d for d in difflib.ndiff(before.splitlines(), after.splitlines())
            if d.startswith(("- ", "+ "))]


def test_keys_list_and_show(repo: Path, keys: Keys) -> None:
    listed = run_cli("keys", "list", "--format", "json", cwd=repo)
    assert listed.code == 0, listed.stderr
    data = {k["name"]: k for k in json.loads(listed.stdout)}
    assert data["old-admin"]["status"] == "retired"
    assert data["ops-admin"]["recipient"] == keys.admin.recipient
    assert data["ops-admin"]["expires"] == "2030-01-10"
    table = run_cli("keys", "list", cwd=repo).stdout
    assert table.splitlines()[0].split() == ["NAME", "TYPE", "STATUS", "CLUSTERS", "EXPIRES",
                                             "OWNER", "RECIPIENT"]
    shown = run_cli("keys", "show", "flux-sandbox", cwd=repo)
    assert shown.code == 0 and "clusters: sandbox" in shown.stdout
    missing = run_cli("keys", "show", "nobody", cwd=repo)
    assert missing.code == 2 and "has no key 'nobody'" in missing.stderr


def test_add_retire_revoke_keep_comments_and_layout(repo: Path) -> None:
    path = repo / REG
    original = path.read_text()
    new = age_key()
    added = run_cli("keys", "add", "flux-staging", "--age", new.recipient, "--cluster",
                    "sandbox", "--owner", "flux@example.com", "--expires", "2027-06-30",
                    cwd=repo)
    assert added.code == 0, added.stderr
    after_add = path.read_text()
    assert [c[2:] for c in changes(original, after_add)] == [
        "  flux-staging:", "    type: age", f"    recipient: {new.recipient}",
        "    owner: flux@example.com", "    clusters: [sandbox]",
        f"    created: {load_registry(path).keys['flux-staging'].created}",
        "    expires: 2027-06-30", "    status: active"]
    assert after_add.index("flux-staging:") < after_add.index("rules:")
    assert run_cli("keys", "retire", "flux-sandbox", cwd=repo).code == 0
    after_retire = path.read_text()
    assert changes(after_add, after_retire) == ["+     status: retired"]
    assert run_cli("keys", "revoke", "ops-admin", cwd=repo).code == 0
    assert changes(after_retire, path.read_text()) == ["-     status: active",
                                                       "+     status: revoked"]
    assert "# the admin key" in path.read_text() and "# first match wins" in path.read_text()


def test_add_refuses_bad_input_and_writes_nothing(repo: Path, keys: Keys) -> None:
    path = repo / REG
    original = path.read_text()
    bad = run_cli("keys", "add", "x", "--age", keys.admin.recipient[:-2] + "qq", "--cluster",
                  "sandbox", cwd=repo)
    assert bad.code == 2 and "invalid age recipient" in bad.stderr
    unknown = run_cli("keys", "add", "x", "--age", age_key().recipient, "--cluster", "stagin",
                      cwd=repo)
    assert unknown.code == 3
    assert "this change would make the registry invalid; nothing was written" in unknown.stderr
    assert "keys.x.clusters: unknown cluster 'stagin'" in unknown.stderr
    dup = run_cli("keys", "add", "again", "--age", keys.admin.recipient, "--cluster", "sandbox",
                  cwd=repo)
    assert dup.code == 3 and "same age recipient as keys.ops-admin" in dup.stderr
    both = run_cli("keys", "add", "x", "--age", "a", "--fingerprint", "b", "--cluster", "s",
                   cwd=repo)
    assert both.code == 2 and "exactly one of" in both.stderr
    assert path.read_text() == original
    assert sorted(p.name for p in path.parent.iterdir()) == ["registry.yaml"]  # no temp files


def test_add_pgp_file_copies_the_public_key(repo: Path, gpg_home: GpgHome, tmp_path: Path) -> None:
    fp = gpg_home.fp  # type: ignore[attr-defined]
    source = tmp_path / "bot.asc"
    source.write_bytes(gpg_home.export_public(fp))
    added = run_cli("keys", "add", "release-bot", "--pgp-file", source, "--cluster",
                    "production", cwd=repo)
    assert added.code == 0, added.stderr
    key = load_registry(repo / REG).keys["release-bot"]
    assert key.recipient.id == fp and key.public_key == (repo / "keys/pgp/release-bot.asc")
    assert key.public_key.read_bytes() == source.read_bytes()
    assert "public_key: pgp/release-bot.asc" in (repo / REG).read_text()


def test_generate_age_key(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "flux-staging.txt"
    made = run_cli("keys", "generate", "flux-staging", "--type", "age", "--cluster", "sandbox",
                   "--private-out", out, cwd=repo)
    assert made.code == 0, made.stderr
    recipient = made.stdout.strip()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    secret = out.read_text().splitlines()[-1]
    assert secret.startswith("AGE-SECRET-KEY-1")
    assert secret not in made.stdout + made.stderr
    assert f"# public key: {recipient}" in out.read_text()
    assert load_registry(repo / REG).keys["flux-staging"].recipient.id == recipient
    again = run_cli("keys", "generate", "other", "--type", "age", "--cluster", "sandbox",
                    "--private-out", out, cwd=repo)
    assert again.code == 2 and "refusing to overwrite" in again.stderr
    assert "other" not in load_registry(repo / REG).keys
    nowhere = run_cli("keys", "generate", "other", "--type", "age", "--cluster", "sandbox",
                      cwd=repo)
    assert nowhere.code == 2 and "--private-out" in nowhere.stderr


def test_generate_pgp_key(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "bot.asc"
    made = run_cli("keys", "generate", "release-bot", "--type", "pgp", "--cluster",
                   "production", "--owner", "bot@example.com", "--private-out", out, cwd=repo)
    assert made.code == 0, made.stderr
    key = load_registry(repo / REG).keys["release-bot"]  # validates the .asc fingerprint
    assert key.recipient.id == made.stdout.strip() and len(key.recipient.id) == 40
    assert "PUBLIC KEY BLOCK" in (repo / "keys/pgp/release-bot.asc").read_text()
    assert "PRIVATE KEY BLOCK" in out.read_text()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "PRIVATE KEY" not in made.stdout + made.stderr


def test_remove_refused_while_needed(repo: Path, keys: Keys) -> None:
    needed = run_cli("keys", "remove", "flux-sandbox", cwd=repo)
    assert needed.code == 2
    assert "still needed by: rule rules[1] (clusters/sandbox/**)" in needed.stderr
    # a sops file encrypted to it (the real sops) keeps it needed after it is retired
    secret = repo / "clusters" / "sandbox" / "db.env"
    secret.parent.mkdir(parents=True)
    enc = run_sops("encrypt", "--age", keys.flux_sandbox.recipient, "--input-type", "dotenv",
                   "--output-type", "dotenv", "/dev/stdin", env={}, input=b"PASSWORD=hunter2\n",
                   cwd=repo)
    assert enc.returncode == 0, enc.stderr
    secret.write_bytes(enc.stdout)
    assert run_cli("keys", "retire", "flux-sandbox", cwd=repo).code == 0
    blocked = run_cli("keys", "remove", "flux-sandbox", cwd=repo)
    assert blocked.code == 2 and "file clusters/sandbox/db.env" in blocked.stderr
    forced = run_cli("keys", "remove", "flux-sandbox", "--force", cwd=repo)
    assert forced.code == 0 and "although still needed by: file clusters/sandbox/db.env" in \
        forced.stderr
    assert "flux-sandbox" not in load_registry(repo / REG).keys
    assert run_cli("keys", "remove", "old-admin", cwd=repo).code == 0  # nothing needs it


def test_invalid_registry_exit_3_lists_every_problem(repo: Path) -> None:
    path = repo / REG
    text = path.read_text().replace("version: 1", "version: 3").replace(
        "clusters: [sandbox]\n  flux-production", "clusters: [sandbx]\n  flux-production")
    path.write_text(text)
    result = run_cli("keys", "list", cwd=repo)
    assert result.code == 3
    assert "invalid registry (2 problems)" in result.stderr
    assert f"{path}:2: version: must be 1" in result.stderr
    assert "keys.flux-sandbox.clusters: unknown cluster 'sandbx'" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_render_and_check(repo: Path) -> None:
    missing = run_cli("config", "render", "--check", cwd=repo)
    assert missing.code == 1 and "+++ .sops.yaml (from the registry)" in missing.stdout
    assert not (repo / ".sops.yaml").exists()
    assert run_cli("config", "render", cwd=repo).code == 0
    assert (repo / ".sops.yaml").read_text().startswith(
        "# Generated by sopskit from keys/registry.yaml: do not edit by hand.")
    clean = run_cli("config", "render", "--check", cwd=repo)
    assert clean.code == 0 and clean.stdout == ""
    assert run_cli("keys", "retire", "flux-sandbox", cwd=repo).code == 0
    drift = run_cli("config", "render", "--check", cwd=repo)
    assert drift.code == 1
    assert drift.stdout.startswith("--- .sops.yaml (on disk)\n+++ .sops.yaml (from the registry)")
    # the key leaves the 5 creation rules of the sandbox, the bases and the .env files
    assert drift.stdout.count("\n-      - 'age1") == 5
    printed = run_cli("config", "render", "--stdout", cwd=repo)
    assert printed.code == 0 and printed.stdout.startswith("# Generated by sopskit")


def test_recipients_text_json_and_no_match(repo: Path, keys: Keys) -> None:
    text = run_cli("recipients", "--explain", "clusters/production/app.yaml", cwd=repo)
    assert text.code == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == ("clusters/production/app.yaml: rules[0] clusters/production/** -> "
                        "production (yaml: encrypted_regex ^(data|stringData)$)")
    assert f"  ops-admin  age  {keys.admin.recipient}" in lines
    assert "  left out old-admin: retired (status retired)" in lines
    assert "  left out flux-sandbox: other-cluster (serves sandbox, not production)" in lines
    sub = repo / "core"
    sub.mkdir()
    js = run_cli("recipients", "--format", "json", "app.env", "../README.md", cwd=sub)
    assert js.code == 1
    first, second = json.loads(js.stdout)
    assert first["path"] == "core/app.env" and first["rule"] == {"index": 2,
                                                                 "path": "{core,services,apps}/**"}
    assert first["crypt_rule"] is None and first["format"] == "dotenv"
    assert [r["name"] for r in first["recipients"]] == ["flux-production", "flux-sandbox",
                                                        "ops-admin"]
    assert second == {"path": "README.md", "rule": None, "error": second["error"]}
    outside = run_cli("recipients", "/etc/passwd", cwd=repo)
    assert outside.code == 2 and "not inside the repository" in outside.stderr


def test_registry_option_and_environment(repo: Path, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere.yaml"
    (repo / REG).rename(moved)
    none = run_cli("keys", "list", cwd=repo)
    assert none.code == 3 and "no key registry" in none.stderr
    assert run_cli("keys", "list", "--registry", moved, cwd=repo).code == 0
    assert run_cli("keys", "list", cwd=repo,
                   env=clean_env({"SOPSKIT_REGISTRY": str(moved)})).code == 0
    gone = run_cli("keys", "list", "--registry", tmp_path / "nope.yaml", cwd=repo)
    assert gone.code == 3 and "registry file does not exist" in gone.stderr


def test_init(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "fresh")
    (repo / "clusters" / "staging").mkdir(parents=True)
    (repo / "clusters" / "prod").mkdir()
    made = run_cli("init", cwd=repo)
    assert made.code == 0, made.stderr
    registry = load_registry(repo / REG)
    assert list(registry.clusters) == ["prod", "staging"]
    assert [r.path for r in registry.rules] == ["clusters/prod/**", "clusters/staging/**"]
    assert run_cli("config", "render", "--check", cwd=repo).code == 0
    again = run_cli("init", cwd=repo)
    assert again.code == 2 and "refusing to overwrite" in again.stderr
    gen = run_cli("keys", "generate", "admin", "--type", "age", "--cluster", "*",
                  "--private-out", tmp_path / "admin.txt", cwd=repo)
    assert gen.code == 0, gen.stderr
    assert "\n  admin:\n    type: age\n" in (repo / REG).read_text()
    empty = git_repo(tmp_path / "empty")
    assert run_cli("init", cwd=empty).code == 2
    named = run_cli("init", "--cluster", "sandbox", cwd=empty)
    assert named.code == 0 and "sandbox" in load_registry(empty / REG).clusters


def test_concurrent_adds_all_land(repo: Path) -> None:
    import subprocess
    import sys

    new = {f"k{i}": age_key().recipient for i in range(4)}
    procs = [subprocess.Popen([sys.executable, "-m", "sopskit", "keys", "add", name, "--age",
                               recipient, "--cluster", "sandbox"], cwd=repo, env=clean_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for name, recipient in new.items()]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    keys = load_registry(repo / REG).keys
    assert {n: keys[n].recipient.id for n in new} == new


def test_render_that_cannot_write_is_one_line_exit_3(repo: Path) -> None:
    (repo / ".sops.yaml").mkdir()  # something in the way that is not a file
    result = run_cli("config", "render", cwd=repo)
    assert result.code == 3, result.stderr
    assert f"sopskit: error: {repo / '.sops.yaml'}: cannot write it" in result.stderr
    assert not [p for p in repo.iterdir() if p.name.startswith(".sops.yaml.")]  # no temp file


def test_edits_keep_a_four_space_layout_with_padded_dashes(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    path = repo / REG
    path.parent.mkdir()
    admin, new = age_key(), age_key()
    path.write_text(f"""\
version: 1
clusters:
    sandbox: {{}}
keys:
    admin:     # the admin
        type: age
        recipient: {admin.recipient}
        clusters:
        -   "*"
rules:
-   path: clusters/sandbox/**   # sandbox
    clusters:
    -   sandbox
""")
    original = path.read_text()
    added = run_cli("keys", "add", "new", "--age", new.recipient, "--cluster", "sandbox",
                    cwd=repo)
    assert added.code == 0, added.stderr
    created = load_registry(path).keys["new"].created
    # only the new key's lines: the rules keep `-   path:` and their comment column
    assert changes(original, path.read_text()) == [
        "+     new:", "+         type: age", f"+         recipient: {new.recipient}",
        "+         clusters: [sandbox]", f"+         created: {created}",
        "+         status: active"]


def test_remove_refused_for_a_file_encrypted_to_a_long_key_id(repo: Path, gpg_home: GpgHome,
                                                               tmp_path: Path) -> None:
    fp = gpg_home.fp  # type: ignore[attr-defined]
    source = tmp_path / "bot.asc"
    source.write_bytes(gpg_home.export_public(fp))
    assert run_cli("keys", "add", "bot", "--pgp-file", source, "--cluster", "production",
                   cwd=repo).code == 0
    assert run_cli("keys", "retire", "bot", cwd=repo).code == 0
    # a .sops.yaml that named the key by its long key id: sops stores it as typed
    secret = repo / "clusters" / "production" / "db.env"
    secret.parent.mkdir(parents=True)
    enc = run_sops("encrypt", "--pgp", fp[-16:], "--input-type", "dotenv", "--output-type",
                   "dotenv", "/dev/stdin", env={"GNUPGHOME": str(gpg_home.path)},
                   input=b"PASSWORD=hunter2\n", cwd=repo)
    assert enc.returncode == 0, enc.stderr
    secret.write_bytes(enc.stdout)
    assert f"sops_pgp__list_0__map_fp={fp[-16:]}" in secret.read_text()
    blocked = run_cli("keys", "remove", "bot", cwd=repo)
    assert blocked.code == 2 and "file clusters/production/db.env" in blocked.stderr
    assert "bot" in load_registry(repo / REG).keys


def test_generate_refuses_a_private_key_file_inside_the_repository(repo: Path) -> None:
    before = (repo / REG).read_text()
    for target in ("bot.txt", "keys/admin.txt"):
        done = run_cli("keys", "generate", "k", "--type", "age", "--cluster", "sandbox",
                       "--private-out", target, cwd=repo)
        assert done.code == 2 and "inside the repository" in done.stderr, done.stderr
        assert not (repo / target).exists()
    assert (repo / REG).read_text() == before
