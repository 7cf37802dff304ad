"""`sopskit exposure` on real histories built with the real sops and git: renames, a
deleted file, a file only on a tagged branch, `set` (same data key) and `rotate` (new data
key, the leaked key removed); every value's status checked exactly, key-less and with a key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.audit import fakes
from tests.audit.repos import commit, new_repo, sops_encrypt, sops_run, write
from tests.helpers import UPSTREAM_FPS, AgeKey, GpgHome, age_key, git, run_cli, run_sops

REGEX = ("--encrypted-regex", "^(data|stringData)$")


def secret(**values: str) -> str:
    return "kind: Secret\nstringData:\n" + "".join(f"  {k}: {v}\n" for k, v in values.items())


def _set(repo: Path, rel: str, key: str, value: str, secret_key: str) -> None:
    sops_run(repo, "set", rel, f'["stringData"]["{key}"]', json.dumps(value), key=secret_key)


class Story:
    """leaked (L) and new (N) keys; each step a real commit."""

    def __init__(self, tmp_path: Path) -> None:
        self.leaked, self.new = age_key(), age_key()
        self.repo = new_repo(tmp_path / "repo")
        self.keys = write(tmp_path, "new.txt", self.new.secret + "\n")
        both = [self.leaked.recipient, self.new.recipient]
        self.pw = fakes.password()
        sops_encrypt(self.repo, "apps/db.sops.yaml",
                     secret(user="app-" + fakes.password()[:8], password=self.pw,
                            token=fakes.password()), age=both, extra=REGEX)
        sops_encrypt(self.repo, "apps/old.sops.yaml", secret(k=fakes.password()),
                     age=both, extra=REGEX)
        sops_encrypt(self.repo, "apps/other.sops.yaml", secret(k=fakes.password()),
                     age=[self.new.recipient], extra=REGEX)
        self.first = commit(self.repo, "add")
        (self.repo / "cluster").mkdir()
        git(self.repo, "mv", "apps/db.sops.yaml", "cluster/db.sops.yaml")
        commit(self.repo, "move")
        cfg = write(tmp_path, "only-new.yaml",
                    f"creation_rules: [{{path_regex: '', age: {self.new.recipient}}}]\n")
        done = run_sops("--config", str(cfg), "updatekeys", "-y", "cluster/db.sops.yaml",
                        env={"SOPS_AGE_KEY": self.new.secret}, cwd=self.repo)
        assert done.returncode == 0, done.stderr.decode()
        self.dropped = commit(self.repo, "leaked key out, same data key")
        # same length, same data key: a changed value, known key-less
        _set(self.repo, "cluster/db.sops.yaml", "password", fakes.password()[:len(self.pw)],
             self.new.secret)
        self.set_commit = commit(self.repo, "new password")
        git(self.repo, "checkout", "-q", "-b", "feature")
        sops_encrypt(self.repo, "feat.sops.yaml", secret(f=fakes.password()),
                     age=[self.leaked.recipient], extra=REGEX)
        self.feature = commit(self.repo, "feature secret")
        git(self.repo, "tag", "v-feat")
        git(self.repo, "checkout", "-q", "main")
        git(self.repo, "branch", "-D", "feature")  # only the tag keeps it
        git(self.repo, "rm", "-q", "apps/old.sops.yaml")
        commit(self.repo, "drop old")

    def rotate(self) -> None:
        """Remove the leaked key with a new data key (what `rekey --apply` does)."""
        path = self.repo / "cluster/db.sops.yaml"
        path.write_bytes(sops_run(self.repo, "rotate", str(path), key=self.new.secret))
        commit(self.repo, "rotate")

    def exposure(self, *args: str) -> tuple[int, dict]:
        r = run_cli("--repo", self.repo, "exposure", self.leaked.recipient, "--format", "json",
                    "--no-keyring", *args)
        assert r.stderr == "" or "error" not in r.stderr, r.stderr
        return r.code, json.loads(r.stdout)


def statuses(data: dict) -> dict[str, dict[str, str]]:
    return {f["path"]: {v["key_path"]: v["status"] for v in f["values"]} for f in data["files"]}


@pytest.fixture
def story(tmp_path: Path) -> Story:
    return Story(tmp_path)


def test_updatekeys_keeps_the_data_key_so_the_key_still_reads_all(story: Story) -> None:
    """`updatekeys` took the leaked key out but kept the data key it unwraps: every later
    version, the password set afterwards and today's file included, is readable with it."""
    code, data = story.exposure()
    assert statuses(data) == {
        "cluster/db.sops.yaml": {"stringData.user": "unchanged",
                                 "stringData.password": "unchanged",
                                 "stringData.token": "unchanged"},
        "apps/old.sops.yaml": {"stringData.k": "removed"},
        "feat.sops.yaml": {"stringData.f": "removed"},
    }
    db = next(f for f in data["files"] if f["path"] == "cluster/db.sops.yaml")
    assert db["history_paths"] == ["apps/db.sops.yaml", "cluster/db.sops.yaml"]
    assert db["first_commit"] == story.first and db["readable_now"] is True
    assert db["last_commit"] == story.set_commit  # written after updatekeys: same data key
    feat = next(f for f in data["files"] if f["path"] == "feat.sops.yaml")
    assert feat["first_commit"] == feat["last_commit"] == story.feature
    assert data["summary"] == {"files": 3, "unchanged": 3, "changed": 0, "removed": 2,
                               "unknown": 0}
    assert data["key"] == {"name": f"age:{story.leaked.recipient}",
                           "recipient": f"age:{story.leaked.recipient}",
                           "status": "unregistered"}
    assert code == 0  # not said to be compromised, not in a registry
    assert story.exposure("--compromised")[0] == 1
    # other.sops.yaml never had the leaked key nor its data key
    assert "apps/other.sops.yaml" not in statuses(data)


def test_a_copy_holds_the_data_key_of_its_source(story: Story) -> None:
    """`cp` of a file the key could read, then edited and re-keyed without the key: the
    copy has the same data key, so the key reads it."""
    (story.repo / "apps/copy.sops.yaml").write_bytes(
        (story.repo / "cluster/db.sops.yaml").read_bytes())
    _set(story.repo, "apps/copy.sops.yaml", "token", "copy-" + fakes.password(),
         story.new.secret)
    commit(story.repo, "a new app from a copy")
    copy = next(f for f in story.exposure()[1]["files"] if f["path"] == "apps/copy.sops.yaml")
    assert copy["readable_now"] is True
    assert {v["key_path"]: v["status"] for v in copy["values"]} == {
        "stringData.user": "unchanged", "stringData.password": "unchanged",
        "stringData.token": "unchanged"}


def test_after_rotation_keyless_is_unknown_and_a_key_decides(story: Story) -> None:
    story.rotate()
    _, data = story.exposure()
    db = next(f for f in data["files"] if f["path"] == "cluster/db.sops.yaml")
    assert db["readable_now"] is False
    assert statuses(data)["cluster/db.sops.yaml"] == {
        "stringData.user": "unknown", "stringData.password": "unknown",
        "stringData.token": "unknown"}
    _, keyed = story.exposure("--identity", str(story.keys))
    # the password set after updatekeys was under the old data key: read too
    assert statuses(keyed)["cluster/db.sops.yaml"] == {
        "stringData.user": "unchanged", "stringData.password": "unchanged",
        "stringData.token": "unchanged"}
    # changed under the new data key: unknown key-less (same length), changed with a key
    _set(story.repo, "cluster/db.sops.yaml", "password", fakes.password()[:len(story.pw)],
         story.new.secret)
    commit(story.repo, "a new password, new data key")
    assert statuses(story.exposure()[1])["cluster/db.sops.yaml"]["stringData.password"] == \
        "unknown"
    keyed = story.exposure("--identity", str(story.keys))[1]
    assert statuses(keyed)["cluster/db.sops.yaml"]["stringData.password"] == "changed"
    # a longer value is a changed one even key-less (AES-GCM keeps the length)
    _set(story.repo, "cluster/db.sops.yaml", "token", fakes.password() * 2, story.new.secret)
    commit(story.repo, "new token")
    _, later = story.exposure()
    assert statuses(later)["cluster/db.sops.yaml"]["stringData.token"] == "changed"
    assert story.exposure("--since", story.set_commit, "--compromised")[1]["files"] == [
        {"path": "feat.sops.yaml", "history_paths": ["feat.sops.yaml"],
         "first_commit": story.feature, "last_commit": story.feature, "readable_now": False,
         "values": [{"key_path": "stringData.f", "status": "removed"}]}]


def test_a_reverted_rotation_gives_the_key_everything_back(story: Story) -> None:
    story.rotate()
    rotated = git(story.repo, "rev-parse", "HEAD").strip()
    assert statuses(story.exposure()[1])["cluster/db.sops.yaml"]["stringData.user"] == \
        "unknown"
    git(story.repo, "revert", "--no-edit", rotated)
    _, data = story.exposure()
    db = next(f for f in data["files"] if f["path"] == "cluster/db.sops.yaml")
    assert db["readable_now"] is True and set(statuses(data)[db["path"]].values()) == \
        {"unchanged"}


def test_the_runbook_of_a_revoked_key_lists_the_live_values(story: Story) -> None:
    write(story.repo, "keys/registry.yaml", "\n".join([
        "version: 1", "clusters:", "  sandbox: {description: tracks main}", "keys:",
        "  leaked:", "    type: age", f"    recipient: {story.leaked.recipient}",
        "    clusters: [sandbox]", "    status: revoked",
        "  fresh:", "    type: age", f"    recipient: {story.new.recipient}",
        "    clusters: [sandbox]", "rules:", '  - path: "**"', "    clusters: [sandbox]", ""]))
    commit(story.repo, "registry")
    r = run_cli("--repo", story.repo, "runbook", "rotate-key", "leaked", "--to", "fresh")
    assert r.code == 0, r.stderr
    first = r.stdout.split("\n2. ")[0]
    assert "$ sopskit edit cluster/db.sops.yaml" in first
    assert "cluster/db.sops.yaml: stringData.user (unchanged)" in first
    assert "cluster/db.sops.yaml: stringData.token (unchanged)" in first
    assert "cluster/db.sops.yaml: stringData.password (unchanged)" in first  # same data key
    assert "old.sops.yaml" not in first
    # updatekeys took the key out of db but kept the data key: the runbook rotates it, with
    # the re-key for the new key (before its commit)
    held = "$ sopskit rekey --apply --rotate-data-key always cluster/db.sops.yaml"
    assert held in r.stdout
    order = [line.split(". ", 1)[1] for line in r.stdout.splitlines() if line[:1].isdigit()]
    at = order.index("New data keys for the files leaked still reads")
    assert order[at - 1].startswith("Re-key the files for fresh")
    assert order[at + 1] == "Commit"
    step = run_cli("--repo", story.repo, "runbook", "rotate-key", "leaked", "--to", "fresh",
                   "--format", "json")
    steps = {s["id"]: s for s in json.loads(step.stdout)["steps"]}
    assert steps["rotate-held"]["expect"] == {"files": ["cluster/db.sops.yaml"]}
    story.rotate()  # the rekey: the values the key read are still the live ones
    again = run_cli("--repo", story.repo, "runbook", "rotate-key", "leaked", "--to", "fresh",
                    "--no-keyring")
    assert "cluster/db.sops.yaml: stringData.user (unknown)" in again.stdout
    keyed = run_cli("--repo", story.repo, "runbook", "rotate-key", "leaked", "--to", "fresh",
                    "--no-keyring", "--identity", str(story.keys)).stdout.split("\n2. ")[0]
    listed = [line.strip() for line in keyed.splitlines() if "cluster/db.sops.yaml: " in line]
    assert listed == ["- cluster/db.sops.yaml: stringData.password (unchanged)",
                      "- cluster/db.sops.yaml: stringData.token (unchanged)",
                      "- cluster/db.sops.yaml: stringData.user (unchanged)"]
    assert "--rotate-data-key always" not in keyed  # the data key is new: nothing held
    r = run_cli("--repo", story.repo, "exposure", "leaked", "--no-keyring")
    assert r.code == 1 and "leaked (age:" in r.stdout and "revoked" in r.stdout


def test_unknown_key_and_revision_are_one_line(tmp_path: Path, age: AgeKey) -> None:
    repo = new_repo(tmp_path / "r")
    r = run_cli("--repo", repo, "exposure", "nobody")
    assert r.code == 2 and r.stderr.count("\n") == 1 and "nobody" in r.stderr
    r = run_cli("--repo", repo, "exposure", age.recipient[:-1])  # a typo finds nothing
    assert r.code == 2 and "KEY: not an age recipient" in r.stderr
    r = run_cli("--repo", repo, "exposure", age.recipient, "--since", "nope")  # no commits
    assert r.code == 3 and "unknown revision 'nope'" in r.stderr
    write(repo, "a.txt", "x")
    commit(repo)
    r = run_cli("--repo", repo, "exposure", age.recipient, "--since", "nope")
    assert r.code != 0 and r.stderr.count("\n") == 1 and "nope" in r.stderr
    r = run_cli("--repo", repo, "exposure", age.recipient, "--format", "json")
    assert r.code == 0 and json.loads(r.stdout)["files"] == []


def _committed(repo: Path, rel: str, age: AgeKey, name: str) -> None:
    """A one-value sops file for `age` at `rel`, committed."""
    sops_encrypt(repo, rel, secret(**{name: fakes.password()}), age=[age.recipient],
                 extra=REGEX)
    commit(repo, f"add {rel}")


def test_a_file_decrypted_in_place_is_not_removed(tmp_path: Path, age: AgeKey) -> None:
    """Its values may now be there in plaintext: `unknown` (exit 1 when compromised)."""
    repo = new_repo(tmp_path / "r")
    name = "odd $(x)\nname.sops.yaml"
    _committed(repo, name, age, "k")
    shown = "odd $(x)\\nname.sops.yaml"  # a newline in a name must not forge a line
    assert shown in run_cli("--repo", repo, "access").stdout
    (repo / name).write_bytes(sops_run(repo, "-d", name, key=age.secret))
    commit(repo, "decrypted")
    r = run_cli("--repo", repo, "exposure", age.recipient, "--format", "json",
                "--no-keyring", "--compromised")
    assert statuses(json.loads(r.stdout)) == {name: {"stringData.k": "unknown"}}
    assert r.code == 1
    r = run_cli("--repo", repo, "exposure", age.recipient, "--no-keyring")
    assert f"\n{shown} (no longer a sops file)  first " in r.stdout
    assert "\nname.sops.yaml" not in r.stdout
    fresh = age_key()
    write(repo, "keys/registry.yaml", "\n".join([
        "version: 1", "clusters:", "  c: {description: x}", "keys:",
        "  leaked:", "    type: age", f"    recipient: {age.recipient}",
        "    clusters: [c]", "    status: revoked",
        "  fresh:", "    type: age", f"    recipient: {fresh.recipient}",
        "    clusters: [c]", "rules:", '  - path: "**"', "    clusters: [c]", ""]))
    r = run_cli("--repo", repo, "runbook", "rotate-key", "leaked", "--to", "fresh",
                "--no-keyring")
    first = r.stdout.split("\n2. ")[0]
    assert "$ sopskit encrypt -i 'odd $(x)" in first and "sopskit edit" not in first


def test_a_shallow_clone_says_its_history_is_cut(tmp_path: Path, age: AgeKey) -> None:
    repo = new_repo(tmp_path / "r")
    _committed(repo, "a.sops.yaml", age, "k")
    git(repo, "rm", "-q", "a.sops.yaml")
    commit(repo, "drop")
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", "shallow")
    r = run_cli("--repo", tmp_path / "shallow", "exposure", age.recipient, "--no-keyring")
    assert r.code == 0 and "note: shallow clone: history is cut" in r.stdout
    r = run_cli("--repo", tmp_path / "shallow", "audit", "--history")
    assert "shallow clone: history is cut" in r.stdout + r.stderr


def test_a_path_renamed_away_and_reused_holds_another_file(tmp_path: Path,
                                                             age: AgeKey) -> None:
    repo = new_repo(tmp_path / "r")
    _committed(repo, "x.sops.yaml", age, "a")
    git(repo, "mv", "x.sops.yaml", "y.sops.yaml")
    commit(repo, "move")
    _committed(repo, "x.sops.yaml", age, "c")  # another file at the old path
    git(repo, "rm", "-q", "y.sops.yaml")
    commit(repo, "drop the moved file")
    r = run_cli("--repo", repo, "exposure", age.recipient, "--format", "json", "--no-keyring")
    assert statuses(json.loads(r.stdout)) == {"x.sops.yaml": {"stringData.c": "unchanged"},
                                              "y.sops.yaml": {"stringData.a": "removed"}}


def test_an_orphan_branch_still_walks_the_others_and_damage_is_an_error(
        tmp_path: Path, age: AgeKey) -> None:
    repo = new_repo(tmp_path / "r")
    _committed(repo, "a.sops.yaml", age, "k")
    git(repo, "checkout", "-q", "--orphan", "fresh")  # HEAD unborn, main holds the history
    git(repo, "rm", "-rqf", ".")
    r = run_cli("--repo", repo, "exposure", age.recipient, "--format", "json", "--no-keyring")
    assert statuses(json.loads(r.stdout)) == {"a.sops.yaml": {"stringData.k": "removed"}}
    head = git(repo, "rev-parse", "main").strip()
    (repo / ".git/objects" / head[:2] / head[2:]).unlink()  # the branch's commit is lost
    r = run_cli("--repo", repo, "exposure", age.recipient, "--no-keyring")
    assert r.code == 3 and r.stderr.count("\n") == 1 and "damaged repository" in r.stderr


def test_a_pgp_key_given_by_its_long_id(tmp_path: Path, upstream_gpg: GpgHome) -> None:
    """sops stores the fingerprint; KEY may be the 16-hex long id (README)."""
    repo = new_repo(tmp_path / "r")
    write(repo, "s.sops.yaml", "k: vvvvvvvv\n")
    done = run_sops("-e", "-i", "--pgp", UPSTREAM_FPS[0], "s.sops.yaml",
                    env={"GNUPGHOME": str(upstream_gpg.path)}, cwd=repo)
    assert done.returncode == 0, done.stderr.decode()
    commit(repo, "pgp")
    for key in (UPSTREAM_FPS[0], UPSTREAM_FPS[0][-16:]):
        r = run_cli("--repo", repo, "exposure", key, "--format", "json", "--no-keyring")
        assert statuses(json.loads(r.stdout)) == {"s.sops.yaml": {"k": "unchanged"}}, key


def test_a_value_typed_back_after_a_rotation(story: Story) -> None:
    """After the rotation, A, then B, then A again: key-less nothing tells (unknown); an
    identity finds the value the key read (unchanged), and B alone as changed."""
    story.rotate()
    path = story.repo / "cluster/db.sops.yaml"
    before = json.loads(sops_run(story.repo, "decrypt", "--output-type", "json", str(path),
                                 key=story.new.secret))["stringData"]["token"]
    other = (fakes.password() * 3)[:len(before)]
    _set(story.repo, "cluster/db.sops.yaml", "token", other, story.new.secret)
    commit(story.repo, "token changed")
    keyed = story.exposure("--identity", str(story.keys))[1]
    assert statuses(keyed)["cluster/db.sops.yaml"]["stringData.token"] == "changed"
    _set(story.repo, "cluster/db.sops.yaml", "token", before, story.new.secret)
    commit(story.repo, "the old token typed back")
    assert statuses(story.exposure()[1])["cluster/db.sops.yaml"]["stringData.token"] == \
        "unknown"
    keyed = story.exposure("--identity", str(story.keys))[1]
    assert statuses(keyed)["cluster/db.sops.yaml"]["stringData.token"] == "unchanged"


def test_a_key_added_later_reads_the_versions_before_it(tmp_path: Path) -> None:
    """`updatekeys` adding a key wraps the data key the file already had: the versions
    written before, still in git, are readable with it (first_commit is the file's add)."""
    early, late = age_key(), age_key()
    repo = new_repo(tmp_path / "r")
    sops_encrypt(repo, "s.sops.yaml", secret(token=fakes.password(), gone=fakes.password()),
                 age=[early.recipient], extra=REGEX)
    added = commit(repo, "only the early key")
    sops_run(repo, "unset", "s.sops.yaml", '["stringData"]["gone"]', key=early.secret)
    commit(repo, "a value removed before the late key came")
    cfg = write(tmp_path, "both.yaml", "creation_rules: [{path_regex: '', age: "
                f"'{early.recipient},{late.recipient}'}}]\n")
    done = run_sops("--config", str(cfg), "updatekeys", "-y", "s.sops.yaml",
                    env={"SOPS_AGE_KEY": early.secret}, cwd=repo)
    assert done.returncode == 0, done.stderr.decode()
    commit(repo, "the late key added")
    r = run_cli("--repo", repo, "exposure", late.recipient, "--format", "json", "--no-keyring")
    data = json.loads(r.stdout)
    assert [(f["path"], f["first_commit"], f["readable_now"]) for f in data["files"]] == [
        ("s.sops.yaml", added, True)]
    assert statuses(data) == {"s.sops.yaml": {"stringData.token": "unchanged",
                                              "stringData.gone": "removed"}}


def test_with_a_key_the_data_key_is_compared_where_no_ciphertext_is_shared(
        tmp_path: Path) -> None:
    """One commit that takes the key out with `updatekeys` (every wrapped key re-written) and
    changes the only value (new value, new MAC) shares no ciphertext with the version
    before: key-less that version is not linked to the key (unknown), with an identity
    the data keys are compared: the same, so the key reads today's value."""
    leaked, kept = age_key(), age_key()
    repo = new_repo(tmp_path / "r")
    sops_encrypt(repo, "s.sops.yaml", secret(token=fakes.password()),
                 age=[leaked.recipient, kept.recipient], extra=REGEX)
    commit(repo, "both keys")
    cfg = write(tmp_path, "kept.yaml", f"creation_rules: [{{path_regex: '', age: {kept.recipient}}}]\n")
    done = run_sops("--config", str(cfg), "updatekeys", "-y", "s.sops.yaml",
                    env={"SOPS_AGE_KEY": kept.secret}, cwd=repo)
    assert done.returncode == 0, done.stderr.decode()
    _set(repo, "s.sops.yaml", "token", fakes.password(), kept.secret)
    commit(repo, "leaked key out and a new token, one commit, same data key")
    keys = write(tmp_path, "kept.txt", kept.secret + "\n")

    def exposure(*args: str) -> dict:  # type: ignore[type-arg]
        r = run_cli("--repo", repo, "exposure", leaked.recipient, "--format", "json",
                    "--no-keyring", *args)
        return json.loads(r.stdout)  # type: ignore[no-any-return]

    keyless = exposure()
    assert keyless["files"][0]["readable_now"] is False
    assert statuses(keyless) == {"s.sops.yaml": {"stringData.token": "unknown"}}
    keyed = exposure("--identity", str(keys))
    assert keyed["files"][0]["readable_now"] is True
    assert statuses(keyed) == {"s.sops.yaml": {"stringData.token": "unchanged"}}
