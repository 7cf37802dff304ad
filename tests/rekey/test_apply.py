"""`rekey --apply` over real files: the real sops agrees with the proof, failures are
isolated, and a second apply cannot run at the same time."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from sopskit import yamlio
from sopskit.engine.rekey.journal import state_dir
from sopskit.engine.rekey.lock import RekeyLock
from sopskit.identity.model import AgeIdentity, Identities
from sopskit.recipient import Recipient
from sopskit.sops.binary import locate
from sopskit.sops.config import CreationRule
from sopskit.sops.runner import Sops
from sopskit.sopsfile.model import CryptRule
from tests.helpers import GpgHome, age_key, run_cli, run_sops
from tests.rekey.world import MARKER, STORES, content, make_world


def sops_decrypt(path: Path, secret: str) -> tuple[int, bytes]:
    """The real `sops --decrypt` in an environment holding exactly one age key."""
    kind = {".env": "dotenv", ".bin": "binary"}.get(path.suffix, path.suffix[1:])
    done = run_sops("--decrypt", "--input-type", kind, "--output-type", kind, path,
                    env={"SOPS_AGE_KEY": secret})
    return done.returncode, done.stdout


def same(store: str, got: bytes, want: str) -> bool:
    """sops re-renders YAML (indent 4) and JSON (tabs): compare those as data."""
    if store == "yaml":
        return yamlio.load(got.decode(), path="x") == yamlio.load(want, path="x")
    if store == "json":
        return json.loads(got) == json.loads(want)
    if store == "ini":  # go-ini aligns the `=` signs
        return [ln.replace(" ", "") for ln in got.decode().splitlines()] == [
            ln.replace(" ", "") for ln in want.splitlines()]
    return got.decode() == want


def test_replacing_a_cluster_key_across_60_files_of_every_store(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    files = world.populate(60)
    world.commit()
    old = world.keys["flux-sandbox"]
    world.set_status("flux-sandbox", "retired")
    new = world.add_key("flux-sandbox-2", "[sandbox]")

    r = run_cli("--repo", world.root, "rekey", "--apply", "--jobs", "2", "--format", "json",
                env=world.env("ops-admin", "flux-sandbox"))
    assert r.code == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["summary"]["done"] == 60 and report["summary"]["failed"] == 0
    for entry in report["files"]:
        proof = entry["proof"]
        assert entry["action"] == "updatekeys+rotate"
        assert proof["ok"] and proof["recipients_match"] and proof["mac_verified"]
        assert proof["data_key_rotated"] is True
        assert proof["removed_recipients"] == {f"age:{old.recipient}": "locked out"}

    for n, rel in enumerate(files):
        path = world.root / rel
        code, out = sops_decrypt(path, new.secret)
        assert code == 0, rel
        store = STORES[n % len(STORES)]
        assert same(store, out, content(store, n)), rel
        code, out = sops_decrypt(path, old.secret)
        assert code != 0 and MARKER.encode() not in out, rel
    again = run_cli("--repo", world.root, "rekey", "--format", "json", env=world.env())
    assert json.loads(again.stdout)["summary"]["nothing"] == 60


def test_a_file_nobody_here_can_open_fails_alone(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    world.populate(5)
    stranger = age_key()
    lost = world.root / "clusters/sandbox/lost.yaml"
    rule = CreationRule.single({Recipient.age(stranger.recipient)},
                               crypt_rule=CryptRule("encrypted_regex", "^(data|stringData)$"))
    ids = Identities((AgeIdentity(stranger.secret, stranger.recipient, "t"),))
    lost.write_bytes(Sops(locate(None), ids).encrypt(content("yaml", 99).encode(),
                                                     filename="lost.yaml", rule=rule))
    before = lost.read_bytes()
    world.set_status("flux-sandbox", "revoked")
    world.add_key("flux-sandbox-2", "[sandbox]")

    r = run_cli("--repo", world.root, "rekey", "--apply", env=world.env("ops-admin"))
    assert r.code == 1
    lines = r.stdout.splitlines()
    failed = [x for x in lines if x.startswith("FAILED")]
    assert len(failed) == 1 and "clusters/sandbox/lost.yaml" in failed[0]
    assert "no key you have can recover the data key" in failed[0]
    assert sum(x.startswith("DONE") for x in lines) == 5
    assert "5 done and proved (0 needed nothing), 1 failed" in lines[-1]
    assert lost.read_bytes() == before


def test_a_second_apply_refuses_while_one_runs(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    world.populate(2)
    world.set_status("flux-sandbox", "retired")
    with RekeyLock(state_dir(world.root)):
        r = run_cli("--repo", world.root, "rekey", "--apply", env=world.env())
    assert r.code == 2
    assert "another `sopskit rekey --apply`" in r.stderr
    r = run_cli("--repo", world.root, "rekey", "--apply", env=world.env())
    assert r.code == 0, r.stderr


def test_less_encryption_needs_the_flag(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    path = world.encrypt("clusters/sandbox/db.yaml", content("yaml", 1))
    world.extra_rules = ("  - path: clusters/sandbox/*.yaml\n    clusters: [sandbox]\n"
                         "    encrypted_regex: ^password$\n")
    world.write_registry()
    before = path.read_bytes()
    r = run_cli("--repo", world.root, "rekey", "--apply", env=world.env())
    assert r.code == 1 and "BLOCKED" in r.stdout and "--allow-less-encryption" in r.stdout
    assert path.read_bytes() == before
    r = run_cli("--repo", world.root, "rekey", "--apply", "--allow-less-encryption",
                env=world.env())
    assert r.code == 0, r.stdout + r.stderr
    code, out = sops_decrypt(path, world.keys["flux-sandbox"].secret)
    assert code == 0 and same("yaml", out, content("yaml", 1))
    text = path.read_text()
    assert "user: app1" in text and MARKER not in text  # user now plaintext, password not


def test_key_groups_with_a_threshold_are_applied_and_proved(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    files = world.populate(5)
    world.extra_rules = ("  - path: clusters/sandbox/apps/**\n    clusters: [sandbox]\n"
                         "    key_groups:\n      - clusters: [sandbox]\n"
                         "      - keys: [ops-admin]\n    shamir_threshold: 2\n")
    world.write_registry()
    plan = json.loads(run_cli("--repo", world.root, "rekey", "--format", "json",
                              env=world.env()).stdout)
    assert plan["summary"]["updatekeys"] == 5
    r = run_cli("--repo", world.root, "rekey", "--apply", env=world.env())
    assert r.code == 0, r.stdout + r.stderr
    both = {"SOPS_AGE_KEY": world.keys["ops-admin"].secret + "\n"
            + world.keys["flux-sandbox"].secret}
    for n, rel in enumerate(files):
        meta = yamlio.load(run_sops("filestatus", world.root / rel, env=both).stdout.decode(),
                           path="x")
        assert meta == {"encrypted": True}
        store = STORES[n % len(STORES)]
        kind = {"env": "dotenv", "bin": "binary"}.get(store, store)
        done = run_sops("--decrypt", "--input-type", kind, "--output-type", kind,
                        world.root / rel, env=both)
        assert done.returncode == 0 and same(store, done.stdout, content(store, n))
        # ops-admin serves every cluster, so it is in both groups; flux-sandbox only in one
        code, _ = sops_decrypt(world.root / rel, world.keys["flux-sandbox"].secret)
        assert code != 0  # one share is below the threshold of 2


def test_without_a_registry_the_root_sops_yaml_decides(tmp_path: Path) -> None:
    repo = tmp_path / "plain"
    (repo / "secrets").mkdir(parents=True)
    old, new = age_key(), age_key()
    both = Identities((AgeIdentity(old.secret, old.recipient, "t"),
                       AgeIdentity(new.secret, new.recipient, "t")))
    target = repo / "secrets" / "app.env"
    rule = CreationRule.single({Recipient.age(old.recipient)})
    target.write_bytes(Sops(locate(None), both).encrypt(b"TOKEN=" + MARKER.encode() + b"\n",
                                                        filename="app.env", rule=rule))
    (repo / ".sops.yaml").write_text(f"creation_rules:\n  - age: {new.recipient}\n")
    env = {**world_env(), "SOPS_AGE_KEY": f"{old.secret}\n{new.secret}"}
    plan = run_cli("--repo", repo, "rekey", env=env)
    assert "secrets/app.env" in plan.stdout and "updatekeys+rotate" in plan.stdout
    assert ".sops.yaml" in plan.stdout
    r = run_cli("--repo", repo, "rekey", "--apply", env=env)
    assert r.code == 0, r.stdout + r.stderr
    assert sops_decrypt(target, new.secret)[0] == 0
    assert sops_decrypt(target, old.secret)[0] != 0
    assert (repo / ".sopskit" / "rekey-journal.jsonl").is_file()  # not a git repository


def world_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SOPS")} | {"CI": "true"}


def test_a_retired_pgp_key_is_removed_and_the_data_key_rotated(tmp_path: Path,
                                                               gpg_home: GpgHome) -> None:
    world = make_world(tmp_path)
    fp = gpg_home.fp  # type: ignore[attr-defined]
    world.add_pgp_key("release-bot", fp, "[production]", gpg_home.path)
    files = world.populate(2, "clusters/production/apps")
    assert f"fp: {fp}" in (world.root / files[0]).read_text()
    gpg_only = {"GNUPGHOME": str(gpg_home.path)}
    assert run_sops("--decrypt", world.root / files[0], env=gpg_only).returncode == 0
    world.set_status("release-bot", "retired")
    r = run_cli("--repo", world.root, "rekey", "--apply", "--format", "json", env=world.env())
    assert r.code == 0, r.stdout + r.stderr
    for entry in json.loads(r.stdout)["files"]:
        assert entry["action"] == "updatekeys+rotate"
        assert entry["proof"]["data_key_rotated"] is True
        assert entry["proof"]["removed_recipients"] == {f"pgp:{fp}": "no stanza for it"}
    for rel in files:
        text = (world.root / rel).read_text()
        # the metadata has no pgp stanza left (a bare "pgp" could occur inside base64)
        assert fp not in text and not re.search(r"^\s*\"?pgp\"?\s*[:=]", text, re.M)
        assert run_sops("--decrypt", world.root / rel, env=gpg_only).returncode != 0
