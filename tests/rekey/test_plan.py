"""The plan: each action kind, decided from real sops files against a real registry."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from sopskit.engine.rekey.desired import load_desired
from sopskit.engine.rekey.plan import make_plan
from tests.helpers import run_cli
from tests.rekey.world import World, content, make_world


@pytest.fixture
def world(tmp_path: Path) -> World:
    w = make_world(tmp_path)
    w.encrypt("clusters/sandbox/db.yaml", content("yaml", 1))
    w.encrypt("clusters/sandbox/app.env", content("env", 2))
    w.encrypt("clusters/production/api.json", content("json", 3))
    return w


def actions(world: World, mode: str = "auto") -> dict[str, str]:
    plan = make_plan(world.root, [], load_desired(world.root), mode)  # type: ignore[arg-type]
    return {f.path: f.action for f in plan.files}


def test_files_as_the_registry_says_need_nothing(world: World) -> None:
    assert set(actions(world).values()) == {"nothing"}


def test_an_added_key_is_updatekeys_only_for_its_cluster(world: World) -> None:
    world.add_key("flux-sandbox-2", "[sandbox]")
    assert actions(world) == {"clusters/sandbox/db.yaml": "updatekeys",
                              "clusters/sandbox/app.env": "updatekeys",
                              "clusters/production/api.json": "nothing"}


def test_a_retired_or_revoked_key_means_a_new_data_key(world: World) -> None:
    world.set_status("flux-production", "revoked")
    world.add_key("flux-production-2", "[production]")
    got = actions(world)
    assert got["clusters/production/api.json"] == "updatekeys+rotate"
    assert got["clusters/sandbox/db.yaml"] == "nothing"
    plan = make_plan(world.root, [], load_desired(world.root))
    reasons = next(f.reasons for f in plan.files if f.path.endswith("api.json"))
    assert "remove flux-production (revoked)" in reasons


def test_never_mode_keeps_the_data_key_and_says_so(world: World) -> None:
    world.set_status("flux-production", "retired")
    plan = make_plan(world.root, [], load_desired(world.root), "never")
    entry = next(f for f in plan.files if f.path.endswith("api.json"))
    assert entry.action == "updatekeys"
    assert any("NOT rotated" in r for r in entry.reasons)


def test_always_rotates_unchanged_files(world: World) -> None:
    assert set(actions(world, "always").values()) == {"rotate"}


def test_a_changed_crypt_rule_is_a_reencryption(world: World) -> None:
    world.extra_rules = ("  - path: clusters/sandbox/*.yaml\n    clusters: [sandbox]\n"
                         "    encrypted_regex: ^password$\n"
                         "  - path: clusters/production/*.json\n    clusters: [production]\n"
                         "    encrypted_regex: null\n")
    world.write_registry()
    plan = make_plan(world.root, [], load_desired(world.root))
    by_path = {f.path: f for f in plan.files}
    narrower = by_path["clusters/sandbox/db.yaml"]
    assert narrower.action == "re-encrypt"
    assert narrower.less_encrypted == ("stringData.user",)  # encrypted today, not after
    wider = by_path["clusters/production/api.json"]
    assert wider.action == "re-encrypt" and wider.less_encrypted == ()
    assert by_path["clusters/sandbox/app.env"].action == "nothing"


def test_an_unreadable_sops_file_is_an_error_entry(world: World) -> None:
    broken = world.root / "clusters/sandbox/broken.yaml"
    broken.write_text("sops:\n  mac: x\n  version: [unclosed\n")
    r = run_cli("--repo", world.root, "rekey", "--format", "json", env=world.env())
    data = json.loads(r.stdout)
    entry = next(f for f in data["files"] if f["path"] == "clusters/sandbox/broken.yaml")
    assert entry["action"] == "error" and entry["reasons"]
    assert r.code == 1


def test_plan_text_and_json_name_keys_and_write_nothing(world: World) -> None:
    world.set_status("flux-sandbox", "retired")
    world.add_key("flux-sandbox-2", "[sandbox]")
    before = {p: p.read_bytes() for p in world.root.rglob("*") if p.is_file()}
    text = run_cli("--repo", world.root, "rekey", env=world.env())
    assert text.code == 0
    line = next(x for x in text.stdout.splitlines() if x.startswith("clusters/sandbox/db.yaml"))
    assert "updatekeys+rotate" in line
    assert "add flux-sandbox-2" in line and "remove flux-sandbox (retired)" in line
    assert "2 updatekeys+rotate" in text.stdout and "1 nothing" in text.stdout
    data = json.loads(run_cli("--repo", world.root, "rekey", "--format", "json",
                              env=world.env()).stdout)
    assert data["summary"]["updatekeys+rotate"] == 2
    entry = next(f for f in data["files"] if f["path"] == "clusters/sandbox/db.yaml")
    assert entry["removed"] == [f"age:{world.keys['flux-sandbox'].recipient}"]
    assert entry["added"] == [f"age:{world.keys['flux-sandbox-2'].recipient}"]
    after = {p: p.read_bytes() for p in world.root.rglob("*") if p.is_file()}
    assert after == before


def test_a_file_no_rule_covers_is_left_alone_unless_a_removed_key_reads_it(
        tmp_path: Path) -> None:
    world = make_world(tmp_path)
    # a file outside every rule, e.g. a Flux decryption Secret kept for the admins
    world.encrypt("clusters/sandbox/db.yaml", content("yaml", 1))
    (world.root / "ops").mkdir()
    (world.root / "clusters/sandbox/db.yaml").rename(world.root / "ops/sops-age.yaml")
    drop_catch_all(world)
    plan = make_plan(world.root, [], load_desired(world.root))
    assert [(f.path, f.action) for f in plan.files] == [("ops/sops-age.yaml", "unmanaged")]
    world.set_status("flux-sandbox", "revoked")
    drop_catch_all(world)
    plan = make_plan(world.root, [], load_desired(world.root))
    assert plan.files[0].action == "error"
    assert "flux-sandbox (revoked) can still read it" in plan.files[0].reasons[0]


def drop_catch_all(world: World) -> None:
    path = world.root / "keys" / "registry.yaml"
    text = path.read_text()
    path.write_text(text.replace('  - path: "**"\n    clusters: [sandbox, production]\n', ""))


def commit_at(world: World, date: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
           "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    for args in (["add", "-A"], ["commit", "-q", "-m", "old secrets"]):
        subprocess.run(["git", *args], cwd=world.root, env=env, check=True)


def test_data_keys_older_than_the_limit_are_rotated(world: World) -> None:
    commit_at(world, "2023-01-01T00:00:00Z")
    fresh = world.encrypt("clusters/sandbox/new.yaml", content("yaml", 9))
    world.commit("new secret")
    r = run_cli("--repo", world.root, "rekey", "--format", "json", env=world.env())
    by_path = {f["path"]: f for f in json.loads(r.stdout)["files"]}
    old = by_path["clusters/sandbox/db.yaml"]
    assert old["action"] == "rotate"
    assert "days old (> 365; from git history, in commit " in old["reasons"][0]
    assert "(inferred: the file was added here)" in old["reasons"][0]
    assert by_path["clusters/sandbox/new.yaml"]["action"] == "nothing"
    relaxed = run_cli("--repo", world.root, "rekey", "--max-data-key-age", "100000",
                      "--format", "json", env=world.env())
    assert json.loads(relaxed.stdout)["summary"]["rotate"] == 0
    applied = run_cli("--repo", world.root, "rekey", "--apply", "--format", "json",
                      env=world.env())
    assert applied.code == 0
    rotated = {f["path"]: f["proof"]["data_key_rotated"]
               for f in json.loads(applied.stdout)["files"]}
    assert rotated == {"clusters/sandbox/db.yaml": True, "clusters/sandbox/app.env": True,
                       "clusters/production/api.json": True,
                       f"clusters/sandbox/{fresh.name}": None}
    # rotated but not committed yet: the history says nothing about the files on disk
    again = run_cli("--repo", world.root, "rekey", "--format", "json", env=world.env())
    assert json.loads(again.stdout)["summary"]["rotate"] == 0


def test_paths_limit_the_plan(world: World) -> None:
    world.set_status("flux-sandbox", "retired")
    plan = make_plan(world.root, [world.root / "clusters/sandbox/db.yaml",
                                  world.root / "clusters/production"], load_desired(world.root))
    assert {f.path: f.action for f in plan.files} == {
        "clusters/sandbox/db.yaml": "updatekeys+rotate",
        "clusters/production/api.json": "nothing"}


KMS_ARN = "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab"


def _add_kms_stanza(path: Path) -> None:
    """A KMS recipient as sops 3.11 writes it (the file also has age keys, so it stays
    readable without AWS; sops' MAC does not cover the metadata)."""
    text = path.read_text()
    stanza = ("sops:\n    kms:\n        - arn: " + KMS_ARN + "\n"
              "          created_at: \"2024-05-01T10:00:00Z\"\n"
              "          enc: AQICAHhKMSblobAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n"
              "          aws_profile: \"\"\n")
    assert "\nsops:\n" in text
    path.write_text(text.replace("\nsops:\n", "\n" + stanza, 1))


def test_a_kms_recipient_the_registry_does_not_name_is_kept(world: World) -> None:
    """sopskit manages age and PGP keys; a KMS key it knows nothing about is not its to
    remove (a plan that removed it would lock out whoever reads the file through AWS)."""
    _add_kms_stanza(world.root / "clusters/sandbox/db.yaml")
    got = actions(world)
    assert got["clusters/sandbox/db.yaml"] == "nothing"
    world.add_key("flux-sandbox-2", "[sandbox]")
    plan = make_plan(world.root, [], load_desired(world.root))
    entry = next(f for f in plan.files if f.path == "clusters/sandbox/db.yaml")
    assert entry.action == "updatekeys"
    assert not any(r.type == "kms" for r in entry.removed)
    assert any(r.type == "kms" for r in entry.wanted)


def test_rekey_apply_never_drops_a_kms_recipient(world: World) -> None:
    """Applying needs the KMS (sops re-wraps the data key for every master key), which a
    sopskit-run sops cannot reach: the file is left as it was, KMS stanza included."""
    target = world.root / "clusters/sandbox/db.yaml"
    _add_kms_stanza(target)
    before = target.read_bytes()
    world.add_key("flux-sandbox-2", "[sandbox]")
    done = run_cli("--repo", world.root, "rekey", "--apply", env=world.env())
    assert done.code in (1, 2, 3), done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    after = target.read_bytes()
    assert KMS_ARN.encode() in after
    assert after == before or b"flux-sandbox-2" not in after
