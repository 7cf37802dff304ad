"""kill -9 at random points of `rekey --apply`: every file stays old-or-new and valid, no
plaintext reaches the disk, and `--resume` finishes the job."""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sopskit import fsio
from sopskit.engine import keys, write_check
from sopskit.engine.rekey import run
from sopskit.engine.rekey.apply import Context, apply_plan
from sopskit.engine.rekey.desired import load_desired
from sopskit.engine.rekey.journal import JOURNAL_NAME, Journal, load, state_dir
from sopskit.engine.rekey.plan import Plan, make_plan
from sopskit.errors import InputError
from sopskit.fsio import TEMP_PREFIX
from sopskit.identity.model import Identities
from sopskit.recipient import Recipient
from sopskit.sops.binary import locate
from sopskit.sops.runner import Sops
from sopskit.sopsfile.datakey import recover_data_key
from sopskit.sopsfile.document import detect_format, parse
from sopskit.sopsfile.verify import verify_document
from tests.helpers import run_cli
from tests.rekey.test_apply import same
from tests.rekey.world import MARKER, STORES, World, content, make_world

SEEDS = (11, 23, 37, 41)


def assert_valid(repo: Path, files: list[str], identities: Identities,
                 allowed: list[frozenset[Recipient]]) -> int:
    """Every file parses, its MAC verifies, it decrypts to its original content, and its
    recipients are the old or the new set. Returns how many are new."""
    new = 0
    for n, rel in enumerate(files):
        doc = parse((repo / rel).read_bytes(), path=rel, fmt=detect_format(rel))
        key = recover_data_key(doc.metadata, identities, path=rel)
        assert verify_document(doc, key).ok, rel
        store = STORES[n % len(STORES)]
        assert same(store, write_check.decrypt(doc, key), content(store, n)), rel
        assert doc.metadata.recipients in allowed, rel
        new += doc.metadata.recipients == allowed[1]
    return new


def data_keys(repo: Path, files: list[str], identities: Identities) -> dict[str, bytes]:
    return {rel: recover_data_key(parse((repo / rel).read_bytes(), path=rel,
                                        fmt=detect_format(rel)).metadata, identities, path=rel)
            for rel in files}


def assert_no_plaintext(*roots: Path) -> None:
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                assert MARKER.encode() not in path.read_bytes(), path


def recipients(world: World, *names: str) -> frozenset[Recipient]:
    return frozenset(Recipient.age(world.keys[n].recipient) for n in names)


def wait_for_journal(repo: Path, files_done: int, proc: subprocess.Popen[Any]) -> None:
    """The sync point of the crash tests: return once the rekey journal records `files_done`
    finished files (0: the plan is journalled, no file yet), or once the process exited.
    Polls the journal's lines; no fixed sleep decides when the kill lands."""
    journal = state_dir(repo) / JOURNAL_NAME
    while proc.poll() is None:
        try:
            lines = journal.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            lines = []
        if lines and sum('"kind": "file"' in line for line in lines[1:]) >= files_done:
            return
        time.sleep(0.005)  # a poll interval, not a guess at how long rekey takes


@pytest.mark.slow  # four rekeys of 100 files, each killed and resumed: ~45 s
def test_kill_9_then_resume(tmp_path: Path) -> None:
    base = make_world(tmp_path / "base")
    files = base.populate(100)
    base.commit()
    old = recipients(base, "ops-admin", "flux-sandbox")
    base.set_status("flux-sandbox", "retired")
    base.add_key("flux-sandbox-2", "[sandbox]")
    new = recipients(base, "ops-admin", "flux-sandbox-2")
    admin = base.identities("ops-admin")
    first_keys = data_keys(base.root, files, admin)
    interrupted = 0
    for seed in SEEDS:
        repo = tmp_path / f"seed{seed}"
        shutil.copytree(base.root, repo, symlinks=True)
        temp = tmp_path / f"tmp{seed}"
        temp.mkdir()
        env = {**base.env(), "TMPDIR": str(temp)}
        proc = subprocess.Popen([sys.executable, "-m", "sopskit", "--repo", str(repo),
                                 "rekey", "--apply", "--jobs", "2"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_journal(repo, random.Random(seed).randrange(0, 80), proc)
        proc.kill()
        proc.wait()
        done_before = assert_valid(repo, files, admin, [old, new])
        assert_no_plaintext(repo, temp)
        state = load(state_dir(repo))
        if state is None:  # killed before the plan was journalled: nothing was written
            assert done_before == 0
            assert run_cli("--repo", repo, "rekey", "--apply", env=env).code == 0
        elif not state.finished:
            interrupted += 1
            refused = run_cli("--repo", repo, "rekey", "--apply", env=env)
            assert refused.code == 2 and "rekey --resume" in refused.stderr
            assert done_before < 100
            r = run_cli("--repo", repo, "rekey", "--resume", "--format", "json", env=env)
            assert r.code == 0, r.stdout + r.stderr
            summary = json.loads(r.stdout)["summary"]
            assert summary["files"] + summary["done_before_resume"] == 100
            assert summary["done"] == summary["files"]
        assert assert_valid(repo, files, admin, [old, new]) == 100
        assert_no_plaintext(repo, temp)
        assert not [p for p in repo.rglob(f"{TEMP_PREFIX}*")]
        plan = run_cli("--repo", repo, "rekey", env=env)
        assert "100 nothing" in plan.stdout
        now = data_keys(repo, files, admin)  # the retired key's data keys are all gone
        assert all(now[rel] != first_keys[rel] for rel in files)
    assert interrupted >= 1  # at least one kill landed mid-run


def test_ctrl_c_stops_cleanly_and_resume_finishes(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    files = world.populate(60)
    old = recipients(world, "ops-admin", "flux-sandbox")
    world.set_status("flux-sandbox", "retired")
    new = recipients(world, "ops-admin")
    env = world.env()
    proc = subprocess.Popen([sys.executable, "-m", "sopskit", "--repo", str(world.root),
                             "rekey", "--apply", "--jobs", "2"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_journal(world.root, 1, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    admin = world.identities("ops-admin")
    assert proc.returncode in (0, 130) and "Traceback" not in err
    if run.pending(world.root):
        assert "rekey --resume" in err
        assert assert_valid(world.root, files, admin, [old, new]) < 60
        plan = run_cli("--repo", world.root, "rekey", env=env)
        assert "rekey --resume" in plan.stderr
        r = run_cli("--repo", world.root, "rekey", "--resume", env=env)
    else:  # the signal came before the plan was journalled, or after the last file
        r = run_cli("--repo", world.root, "rekey", "--apply", env=env)
    assert r.code == 0, r.stdout + r.stderr
    assert assert_valid(world.root, files, admin, [old, new]) == 60
    assert_no_plaintext(world.root)


def test_resume_rotates_a_file_left_between_updatekeys_and_rotate(tmp_path: Path) -> None:
    """Several key groups take two writes (updatekeys, then rotate): a crash between them
    leaves the new recipients on the old data key, which the removed key holds."""
    world = make_world(tmp_path)
    world.extra_rules = ("  - path: clusters/sandbox/apps/**\n    clusters: [sandbox]\n"
                         "    key_groups:\n      - clusters: [sandbox]\n"
                         "      - keys: [ops-admin]\n    shamir_threshold: 2\n")
    world.write_registry()
    files = world.populate(2)
    ids = world.identities()
    before = {rel: recover_data_key(parse((world.root / rel).read_bytes(), path=rel,
                                          fmt=detect_format(rel)).metadata, ids, path=rel)
              for rel in files}
    world.set_status("flux-sandbox", "retired")
    world.add_key("flux-sandbox-2", "[sandbox]")
    ids = world.identities()
    desired = load_desired(world.root)
    plan = make_plan(world.root, [], desired)
    assert {f.action for f in plan.files} == {"updatekeys+rotate"}
    Journal.create(state_dir(world.root), plan, {}).close()  # the run, killed mid-file:
    first = plan.files[0]
    assert first.rule is not None
    sops = Sops(locate(None), ids)
    keys.updatekeys(world.root / first.path, first.rule, repo=world.root, sops=sops,
                    identities=ids)

    result = run.resume(world.root, desired, Context(world.root, sops, ids), jobs=1)
    assert result.exit_code == 0 and len(result.outcomes) == 2
    for outcome in result.outcomes:
        assert outcome.proof is not None and outcome.proof.key_rotated is True, outcome
        doc = parse((world.root / outcome.path).read_bytes(), path=outcome.path,
                    fmt=detect_format(outcome.path))
        assert recover_data_key(doc.metadata, ids, path=outcome.path) != before[outcome.path]


def test_a_damaged_journal_is_named_not_a_traceback(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    world.populate(1)
    journal = state_dir(world.root) / "rekey-journal.jsonl"
    journal.parent.mkdir(parents=True)
    for text in ("[1]\n", '{"kind": "plan", "version": 1, "files": [{"x": 1}]}\n',
                 '{"kind": "plan", "version": 1, "files": "all"}\n'):
        journal.write_text(text)
        r = run_cli("--repo", world.root, "rekey", "--resume", env=world.env())
        assert r.code == 3 and "not a sopskit rekey journal" in r.stderr, (text, r.stderr)
        assert str(journal) in r.stderr and "internal error" not in r.stderr
    journal.write_text('{"kind": "plan", "version": 1, "files": []}\n5\n["x"]\n')
    assert run_cli("--repo", world.root, "rekey", "--resume", env=world.env()).code == 0


def test_an_unusable_state_directory_is_named(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    world.populate(1)
    world.set_status("flux-sandbox", "retired")
    blocker = state_dir(world.root)
    blocker.write_text("not a directory")
    r = run_cli("--repo", world.root, "rekey", "--apply", env=world.env())
    assert r.code == 3 and "cannot open the rekey lock" in r.stderr, r.stderr
    assert str(blocker) in r.stderr


def test_resume_removes_only_its_own_temp_files(tmp_path: Path) -> None:
    """`.sopskit-baseline.json` (the audit's accepted findings) starts like a temp file of
    ours and sits at the root beside a root-level sops file: resume must keep it."""
    world = make_world(tmp_path)
    world.encrypt("root.yaml", content("yaml", 1))
    baseline = world.root / ".sopskit-baseline.json"
    baseline.write_text('{"version": 1, "entries": []}\n')
    world.set_status("flux-sandbox", "retired")
    ids = world.identities()
    desired = load_desired(world.root)
    plan = make_plan(world.root, [], desired)
    Journal.create(state_dir(world.root), plan, {}).close()  # killed before any write,
    leftovers = [world.root / ".sopskit-k1ll3d_0.yaml", world.root / ".sopskit-empty000.yaml"]
    leftovers[0].write_bytes((world.root / "root.yaml").read_bytes())  # ... or mid-write
    leftovers[1].write_bytes(b"")
    old = time.time() - 60
    for path in (baseline, *leftovers):
        os.utime(path, (old, old))
    result = run.resume(world.root, desired, Context(world.root, Sops(locate(None), ids), ids),
                        jobs=1)
    assert result.exit_code == 0 and result.temps_removed == 2
    assert baseline.read_text() == '{"version": 1, "entries": []}\n'
    assert not any(p.exists() for p in leftovers)


def test_a_journal_that_cannot_be_written_stops_before_any_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    world = make_world(tmp_path)
    path = world.populate(1)[0]
    before = (world.root / path).read_bytes()
    world.set_status("flux-sandbox", "retired")
    ids = world.identities()
    real_replace = fsio.replace_verified

    def full_disk(target: Path, data: bytes, verify: Callable[[Path], None]) -> None:
        if target.name == JOURNAL_NAME:  # the journal's directory is on a full filesystem
            raise fsio.write_error(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), target)
        real_replace(target, data, verify)

    monkeypatch.setattr(fsio, "replace_verified", full_disk)
    with pytest.raises(InputError, match="cannot write the rekey journal"):
        run.apply(world.root, [], load_desired(world.root),
                  Context(world.root, Sops(locate(None), ids), ids), options=run.Options())
    assert (world.root / path).read_bytes() == before
    assert load(state_dir(world.root)) is None


def test_a_journal_directory_that_cannot_be_made_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file where the state directory should be\n")
    with pytest.raises(InputError, match="cannot write the rekey journal"):
        Journal.create(blocker / "sopskit", Plan((), "auto", "registry"), {})


def test_a_full_disk_under_the_journal_stops_the_run_cleanly(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    files = world.populate(6)
    world.set_status("flux-sandbox", "retired")
    ids = world.identities()
    plan = make_plan(world.root, [], load_desired(world.root))
    ctx = Context(world.root, Sops(locate(None), ids), ids)
    full = Journal(Path("/dev/full"))  # every write: ENOSPC
    with pytest.raises(InputError, match="cannot append to the rekey journal"):
        apply_plan(plan.files, ctx, jobs=1, journal=full)
    full.close()
    new = recipients(world, "ops-admin")
    old = recipients(world, "ops-admin", "flux-sandbox")
    done = assert_valid(world.root, files, world.identities("ops-admin"), [old, new])
    assert 1 <= done < 6  # the one being recorded (or so) is new; no other was started
    # and nothing goes on in the background after the error: every worker has ended
    assert not [t for t in threading.enumerate() if t.name.startswith("rekey")]
    assert assert_valid(world.root, files, world.identities("ops-admin"), [old, new]) == done
