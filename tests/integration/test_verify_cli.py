"""`sopskit verify` and `sopskit doctor` as a user and CI see them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.conftest import World


def make(world: World, rel: str, text: str) -> None:
    path = world.write(rel, text)
    assert world.cli("encrypt", "-i", "--age", world.key.recipient, path).code == 0


def test_json_report_shape_and_exit_codes(world: World) -> None:
    make(world, "a/good.yaml", "pw: one-secret\n")
    make(world, "a/bad.env", "PW=two-secret\nOTHER=x\n")
    bad = world.repo / "a" / "bad.env"
    lines = bad.read_text().splitlines()
    lines[0], lines[1] = lines[1].replace("OTHER", "PW"), lines[0].replace("PW", "OTHER")
    bad.write_text("\n".join(lines) + "\n")  # two values swapped between keys
    result = world.cli("verify", "--format", "json", "a")
    assert result.code == 1
    report = json.loads(result.stdout)
    assert report["version"] == 1
    by_path = {f["path"]: f for f in report["files"]}
    assert set(by_path) == {"a/good.yaml", "a/bad.env"}
    assert by_path["a/good.yaml"] == {"path": "a/good.yaml", "ok": True, "mac_checked": True,
                                      "errors": []}
    bad_report = by_path["a/bad.env"]
    assert bad_report["ok"] is False
    assert set(bad_report["errors"][0]) == {"check", "message", "key_path", "line"}
    assert "two-secret" not in result.stdout and "one-secret" not in result.stdout


def test_text_report(world: World) -> None:
    make(world, "s.yaml", "pw: one-secret\n")
    ok = world.cli("verify", "s.yaml")
    assert ok.code == 0
    assert ok.stdout.splitlines() == ["ok    s.yaml", "1 ok, 0 failed"]
    world.write("plain.yaml", "pw: pasted-secret\n")
    bad = world.cli("verify", "s.yaml", "plain.yaml")
    assert bad.code == 1
    assert "FAIL  plain.yaml" in bad.stdout and "pasted-secret" not in bad.stdout


def test_pasted_plaintext_names_key_and_line(world: World) -> None:
    make(world, "s.yaml", "name: app\npw: one-secret\n")
    path = world.repo / "s.yaml"
    text = path.read_text()
    start = text.index("pw: ENC[")
    end = text.index("\n", start)
    path.write_text(text[:start] + "pw: pasted-plaintext" + text[end:])
    result = world.cli("verify", "--format", "json", "s.yaml")
    assert result.code == 1
    errors = json.loads(result.stdout)["files"][0]["errors"]
    assert any(e["key_path"] == "pw" and e["line"] == 2 for e in errors), errors
    assert "pasted-plaintext" not in result.stdout


def test_doctor_shows_public_parts_only(world: World) -> None:
    result = world.cli("doctor")
    assert result.code == 0, result.stderr
    assert "sops: 3." in result.stdout and "gpg: 2." in result.stdout
    assert world.key.recipient in result.stdout
    assert world.key.secret not in result.stdout + result.stderr


def test_unreadable_paths_are_operational_errors(world: World, tmp_path: Path) -> None:
    make(world, "s.yaml", "pw: one-secret\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (world.repo / "link").symlink_to(outside)
    result = world.cli("verify", "--format", "json", "s.yaml", "missing.yaml", "link/x.yaml")
    assert result.code == 3
    files = json.loads(result.stdout)["files"]
    assert [f["ok"] for f in files] == [True, False, False]
    assert [f["errors"][0]["check"] for f in files[1:]] == ["read", "path"]


def test_doctor_without_sops_reports_and_exits_3(world: World, tmp_path: Path) -> None:
    result = world.cli("--sops-binary", tmp_path / "missing-sops", "doctor")
    assert result.code == 3
    assert "sops: PROBLEM: " in result.stdout and "gpg: 2." in result.stdout
    assert len(result.stderr.strip().splitlines()) == 1
    assert "sops binary not found" in result.stderr


def test_doctor_reports_a_broken_key_file_with_the_rest(world: World, tmp_path: Path) -> None:
    """doctor is what a user runs when keys do not work: a bad key file is one of its
    findings (exit 3), not a reason to show nothing."""
    bad = tmp_path / "bad-keys.txt"
    bad.write_text("AGE-SECRET-KEY-1NOTAKEY-do-not-print\n")
    result = world.cli("doctor", env={**world.env, "SOPS_AGE_KEY_FILE": str(bad)})
    assert result.code == 3
    assert "sops: 3." in result.stdout and "gpg: 2." in result.stdout
    assert f"PROBLEM: {bad}:1: not a valid age identity" in result.stdout
    assert "do-not-print" not in result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_quiet_summary_still_says_what_was_not_checked(world: World) -> None:
    make(world, "s.yaml", "pw: one-secret\n")
    without_key = {k: v for k, v in world.env.items() if k != "SOPS_AGE_KEY_FILE"}
    result = world.cli("-q", "verify", "s.yaml", env=without_key)
    assert result.code == 0
    assert result.stdout.splitlines() == [
        "1 ok, 0 failed; MAC not checked for 1 (no key of yours; --require-mac makes that a "
        "failure)"]
    assert world.cli("-q", "verify", "--require-mac", "s.yaml", env=without_key).code == 1


def test_directory_scan_finds_a_file_whose_mac_was_removed(world: World) -> None:
    """A sops file stripped of its `mac` line is refused by sops; verify of the directory
    must fail it, not skip it as "not a sops file" and report the rest ok."""
    for name in ("d/s.yaml", "d/s.json", "d/s.env"):
        make(world, name, '{"pw": "one-secret"}' if name.endswith("json") else (
            "PW=one-secret\n" if name.endswith("env") else "pw: one-secret\n"))
    for name in ("d/s.yaml", "d/s.json", "d/s.env"):
        path = world.repo / name
        path.write_text("".join(line for line in path.read_text().splitlines(True)
                                if "mac" not in line))
    result = world.cli("verify", "--format", "json", "d")
    assert result.code == 1, result.stdout
    files = json.loads(result.stdout)["files"]
    assert sorted(f["path"] for f in files) == ["d/s.env", "d/s.json", "d/s.yaml"]
    assert all(not f["ok"] for f in files)


def test_directory_scan_finds_a_file_whose_metadata_was_cut_off(world: World) -> None:
    """A sops file without its `sops:` block still holds ciphertext nobody can decrypt:
    `verify DIR` finds it by that ciphertext and fails it, as the pre-commit hook does;
    a doc quoting an ENC[...] value is no sops file."""
    make(world, "s/app.yaml", "kind: Secret\nstringData:\n  password: one-secret\n")
    path = world.repo / "s" / "app.yaml"
    text = path.read_text()
    path.write_text(text[:text.index("\nsops:")] + "\n")
    quoted = text.splitlines()[2].strip()
    world.write("s/README.md", f"A value looks like `{quoted}`\n")
    result = world.cli("verify", "--format", "json", "s")
    assert result.code == 1, result.stdout + result.stderr
    files = json.loads(result.stdout)["files"]
    assert [(f["path"], f["ok"]) for f in files] == [("s/app.yaml", False)]
