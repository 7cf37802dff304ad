"""Conventions every command keeps: `-h` prints its help, and `-q`/`-v` are accepted after the
subcommand as well as before it (one walk over the whole command tree, in process)."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sopskit.cli import audit_cmd
from sopskit.cli.commands import LAZY, load
from sopskit.cli.main import cli
from sopskit.cli.style import use_colour
from tests.helpers import age_key, clean_env, read_terminal, run_cli


def command_paths() -> Iterator[tuple[str, ...]]:
    def walk(prefix: tuple[str, ...], command: click.Command) -> Iterator[tuple[str, ...]]:
        yield prefix
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                yield from walk((*prefix, name), sub)
    for name in sorted(LAZY):
        command = load(name)
        assert command is not None
        yield from walk((name,), command)
    yield from walk(("audit", "baseline"), audit_cmd.baseline_group)


ALL = sorted(set(command_paths()))


def test_the_walk_sees_the_whole_tree() -> None:
    assert len(ALL) > len(LAZY) and ("keys", "list") in ALL and ("audit", "baseline", "create") in ALL


@pytest.mark.parametrize("path", ALL, ids=" ".join)
def test_dash_h_on_every_command(path: tuple[str, ...]) -> None:
    for flag in ("-h", "--help"):
        result = CliRunner().invoke(cli, [*path, flag], prog_name="sopskit")
        assert result.exit_code == 0, (path, flag, result.output)
        assert f"Usage: sopskit {' '.join(path)}" in result.output


@pytest.mark.parametrize("path", ALL, ids=" ".join)
def test_quiet_and_verbose_are_accepted_after_every_command(path: tuple[str, ...]) -> None:
    for flag in ("-q", "-v", "--quiet", "--verbose"):
        result = CliRunner().invoke(cli, [*path, flag, "--help"], prog_name="sopskit")
        assert result.exit_code == 0, (path, flag, result.output)


def test_quiet_after_the_subcommand_has_its_effect(tmp_path: Path) -> None:
    key = age_key()
    path = tmp_path / "s.yaml"
    path.write_text("a: 1\n")
    enc = run_cli("--repo", tmp_path, "encrypt", "-i", str(path), "--age", key.recipient, "-v")
    assert enc.code == 0 and "recipients age:" in enc.stderr  # -v after the subcommand
    loud = run_cli("--repo", tmp_path, "verify", str(path))
    quiet = run_cli("--repo", tmp_path, "verify", str(path), "-q")
    assert "ok    s.yaml" in loud.stdout and "ok    s.yaml" not in quiet.stdout
    assert quiet.stdout == run_cli("--repo", tmp_path, "-q", "verify", str(path)).stdout


def test_doctor_lists_as_json_without_secrets(tmp_path: Path) -> None:
    key = age_key()
    keys = tmp_path / "keys.txt"
    keys.write_text(key.secret + "\n")
    result = run_cli("doctor", "--format", "json", env=clean_env({"SOPS_AGE_KEY_FILE": str(keys)}))
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["version"] == 1 and data["ok"] is True and data["sops"]["ok"] is True
    assert [i["recipient"] for i in data["identities"]] == [key.recipient]
    assert key.secret not in result.stdout and "AGE-SECRET-KEY" not in result.stdout


LISTINGS = [("keys", "list"), ("keys", "show"), ("identity", "list"), ("rules", "list"),
            ("recipients",), ("access",), ("doctor",), ("exposure",), ("verify",), ("audit",),
            ("rekey",)]


@pytest.mark.parametrize("path", LISTINGS, ids=" ".join)
def test_every_listing_has_format_json(path: tuple[str, ...]) -> None:
    command: click.Command | None = load(path[0])
    for name in path[1:]:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    assert command is not None
    formats = [p for p in command.params if p.name == "fmt" or "--format" in getattr(p, "opts", ())]
    assert formats and "json" in formats[0].type.choices  # type: ignore[attr-defined]


def run_on_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run the CLI with stdout on a pseudo-terminal; what it printed there."""
    main, child = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "sopskit", *args], stdout=child,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env)
    os.close(child)
    seen = read_terminal(main)
    proc.wait(timeout=120)
    os.close(main)
    return seen.decode()


def test_colours_on_a_terminal_unless_no_color(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("a: 1\n")
    assert run_cli("--repo", tmp_path, "encrypt", "-i", str(path), "--age",
                   age_key().recipient).code == 0
    verify = ["--repo", str(tmp_path), "verify", str(path)]
    assert "\x1b[" in run_on_terminal(verify, clean_env())
    plain = run_on_terminal(verify, clean_env({"NO_COLOR": "1"}))
    assert "\x1b[" not in plain and "ok" in plain
    assert "\x1b[" not in run_cli(*verify).stdout  # not a terminal
    (tmp_path / "config.yaml").write_text("db_password: Sup3rS3cretValue-9f8e7d\n")  # sopskit: allow generic-secret
    assert "\x1b[" in run_on_terminal(["--repo", str(tmp_path), "audit",
                                        str(tmp_path / "config.yaml")], clean_env())
    # the rule itself (no-color.org): an empty NO_COLOR does not count
    main, child = pty.openpty()
    with os.fdopen(child, "w") as terminal:
        monkeypatch.setenv("NO_COLOR", "")
        assert use_colour(terminal)
        monkeypatch.setenv("NO_COLOR", "yes")
        assert not use_colour(terminal)
    os.close(main)


COMPLETION_REGISTRY = """\
version: 1
clusters:
  sandbox: {}
  production: {}
keys:
  ops-admin:
    type: age
    recipient: %s
    clusters: ["*"]
  flux-sandbox:
    type: age
    recipient: %s
    clusters: [sandbox]
rules:
  - path: clusters/sandbox/**
    clusters: [sandbox]
  - path: "**"
    clusters: [production]
"""


def complete(repo: Path, words: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What bash completion offers for the last word of `words` (click's bash protocol, in
    process: the same code path as `_SOPSKIT_COMPLETE=bash_complete sopskit`)."""
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(cli, [], prog_name="sopskit", env={
        "_SOPSKIT_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)})
    assert result.exit_code == 0, result.output
    return [v for line in result.output.splitlines() if (v := line.partition(",")[2])]


def test_completion_of_key_cluster_and_rule_names(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "keys").mkdir()
    (repo / "keys" / "registry.yaml").write_text(
        COMPLETION_REGISTRY % (age_key().recipient, age_key().recipient))
    assert complete(repo, "sopskit keys show ", monkeypatch) == ["ops-admin", "flux-sandbox"]
    assert complete(repo, "sopskit keys retire fl", monkeypatch) == ["flux-sandbox"]
    assert complete(repo, "sopskit exposure o", monkeypatch) == ["ops-admin"]
    assert complete(repo, "sopskit runbook rotate-key ", monkeypatch) == ["ops-admin", "flux-sandbox"]
    assert complete(repo, "sopskit flux secret p", monkeypatch) == ["production"]
    assert complete(repo, "sopskit keys generate new --cluster s", monkeypatch) == ["sandbox"]
    assert complete(repo, "sopskit rules add 'x/**' --clusters sandbox,p", monkeypatch) == [
        "sandbox,production"]
    assert complete(repo, "sopskit rules move ", monkeypatch) == ["0", "1"]
    assert complete(repo, "sopskit keys generate ", monkeypatch) == []  # a new name: nothing to offer
    broken = tmp_path / "broken"
    (broken / ".git").mkdir(parents=True)
    (broken / "keys").mkdir()
    (broken / "keys" / "registry.yaml").write_text("version: [\n")
    assert complete(broken, "sopskit keys show ", monkeypatch) == []  # no suggestion, no error
