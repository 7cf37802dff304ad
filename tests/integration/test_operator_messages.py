"""What sopskit says when something is wrong must name the cause and the fix (issue: runbook
and messages an operator can follow at 2 a.m.). Real sops, real age keys, real git repos."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sopskit.audit.rules import rule
from tests.helpers import age_key, clean_env, git_repo, run_cli
from tests.integration.conftest import World
from tests.registry.conftest import Keys, registry_text


def test_encrypt_outside_the_repository_says_so_and_what_to_pass(world: World,
                                                                 tmp_path: Path) -> None:
    world.write(".sops.yaml", "creation_rules:\n  - path_regex: ^apps/.*$\n"
                f"    age: {world.key.recipient}\n  - path_regex: ^/\n")
    outside = tmp_path / "elsewhere" / "plain.yaml"
    outside.parent.mkdir()
    outside.write_text("data:\n  a: b\n")
    done = world.cli("encrypt", outside)
    assert done.code == 2
    assert "outside the repository" in done.stderr and "--age" in done.stderr
    assert "creation rule" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert outside.read_text() == "data:\n  a: b\n"


def test_decrypt_without_a_usable_key_names_recipients_and_sources(world: World,
                                                                   tmp_path: Path) -> None:
    other = age_key()
    src = world.write("app.env", "A=1\n")
    assert world.cli("encrypt", "--age", other.recipient, "-i", src).code == 0
    mine = age_key()
    env = clean_env({"SOPS_AGE_KEY": mine.secret, "CI": "true"})
    for engine in ((), ("--engine", "sops"), ("--engine", "native")):
        done = world.cli("decrypt", *engine, src, env=env)
        assert done.code == 3, done.stderr
        line = done.stderr.strip()
        assert len(line.splitlines()) == 1
        assert f"encrypted to: age:{other.recipient}" in line
        assert f"SOPS_AGE_KEY: {mine.recipient}" in line  # what the source held: public part
        assert "keyring not consulted" in line
        assert mine.secret not in line and "AGE-SECRET-KEY" not in line


def test_decrypt_output_inside_the_repository_needs_force(world: World, tmp_path: Path) -> None:
    src = world.write("app.env", "A=plain-value\n")
    assert world.cli("encrypt", "--age", world.key.recipient, "-i", src).code == 0
    inside = world.repo / "app.dec.env"
    refused = world.cli("decrypt", src, "-o", inside)
    assert refused.code == 2 and "one `git add` commits it" in refused.stderr
    assert not inside.exists()
    forced = world.cli("decrypt", src, "-o", inside, "--force")
    assert forced.code == 0 and inside.read_text() == "A=plain-value\n"
    other = git_repo(tmp_path / "other") / "sub" / "plain.env"
    other.parent.mkdir()
    elsewhere = world.cli("decrypt", src, "-o", other)
    assert elsewhere.code == 2 and "git work tree" in elsewhere.stderr, elsewhere.stderr
    assert not other.exists()
    outside = tmp_path / "plain.env"
    assert world.cli("decrypt", src, "-o", outside).code == 0
    assert outside.read_text() == "A=plain-value\n"


@pytest.mark.parametrize(("title", "detail", "expected"), [
    (".sops.yaml differs from the registry's rendering",
     "differs from the registry's rendering: run `sopskit config render`",
     ".sops.yaml differs from the registry's rendering: run `sopskit config render`"),
    ("a sops file matches no registry rule", "no registry rule matches a sops file",
     "a sops file matches no registry rule"),
    ("GitHub token", "ghp_ token in a YAML value", "GitHub token: ghp_ token in a YAML value"),
    ("a sops file matches no registry or .sops.yaml creation rule",
     "no creation rule of .sops.yaml matches it: add one",
     "a sops file matches no registry or .sops.yaml creation rule: add one"),
])
def test_rule_message_says_each_thing_once(title: str, detail: str, expected: str) -> None:
    r = rule("config-drift")
    assert type(r)(r.id, r.category, r.severity, title).message(detail) == expected


def test_audit_messages_do_not_repeat_themselves(tmp_path: Path) -> None:
    keys = Keys(age_key(), age_key(), age_key(), age_key())
    repo = git_repo(tmp_path / "repo")
    (repo / "keys").mkdir()
    (repo / "keys" / "registry.yaml").write_text(registry_text(keys))
    env = clean_env()
    assert run_cli("config", "render", cwd=repo, env=env).code == 0
    with (repo / ".sops.yaml").open("a") as fh:
        fh.write("# edited by hand\n")
    (repo / "legacy").mkdir()
    (repo / "legacy" / "plain.yaml").write_text("data:\n  a: Yg==\n")
    assert run_cli("encrypt", "--age", keys.admin.recipient, "legacy/plain.yaml", "-o",
                   "legacy/app.yaml", cwd=repo, env=env).code == 0
    done = run_cli("audit", "--format", "json", cwd=repo, env=env)
    found = {f["rule"]: f["message"] for f in json.loads(done.stdout)["findings"]}
    assert found["config-drift"] == (".sops.yaml differs from the registry's rendering: run"
                                     " `sopskit config render` (this is the first line that"
                                     " differs)")
    assert found["no-rule"].startswith("a sops file matches no registry or .sops.yaml creation"
                                       " rule: nobody is meant"
                                       " to read it; add a rule (sopskit rules add 'legacy/**'")
    for message in found.values():
        head, _, rest = message.partition(": ")
        assert head not in rest
