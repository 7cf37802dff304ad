"""sops-shaped files that are not encrypted (issue 10 §2): metadata written or copied over
plaintext values is critical whatever recipients and MAC it claims, and a key of yours that
is a recipient but cannot open the data key is an integrity finding. Real sops output is
the starting point; the tampering is what a hand edit does."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.audit import fakes
from tests.audit.repos import commit, new_repo, sops_encrypt, write
from tests.helpers import AgeKey, GpgHome, age_key, clean_env, run_cli, run_sops

SECRET = "apiVersion: v1\nkind: Secret\nmetadata:\n    name: s\nstringData:\n    password: {pw}\n"
REGEX = ("--encrypted-regex", "^(data|stringData)$")


def _findings(repo: Path, *args: str) -> list[tuple[str, str, int | None, str]]:
    res = run_cli("--repo", repo, "audit", "--format", "json", "--max-data-key-age", "100000",
                  *args)
    assert res.code in (0, 1), res.stderr
    found = json.loads(res.stdout)["findings"]
    # the exit code is the verdict CI reads: 1 exactly when a finding reaches --fail-on high
    assert res.code == int(any(f["severity"] in ("critical", "high") for f in found)), found
    return sorted((f["path"], f["rule"], f["line"], f["severity"]) for f in found)


def _metadata_over_plaintext(repo: Path, rel: str, pw: str, age: AgeKey) -> str:
    """A real sops file's metadata block under a plaintext body (a hand-made 'sops file')."""
    path = sops_encrypt(repo, rel, SECRET.format(pw=fakes.password()), age=[age.recipient],
                        extra=REGEX)
    meta = path.read_text().split("sops:\n", 1)[1]
    text = SECRET.format(pw=pw) + "sops:\n" + meta
    path.write_text(text)
    return text


def test_hand_written_metadata_over_plaintext_is_critical(tmp_path: Path, age: AgeKey) -> None:
    repo = new_repo(tmp_path / "r")
    pw = fakes.password()
    _metadata_over_plaintext(repo, "a/secret.sops.yaml", pw, age)
    text = _metadata_over_plaintext(repo, "b/secret.sops.yaml", pw, age)
    zeroed = re.sub(r"(?m)^    mac: .*$", '    mac: ""', text)
    write(repo, "b/secret.sops.yaml",
          zeroed.replace("encrypted_regex: ^(data|stringData)$", "encrypted_regex: ^nomatch$"))
    text = _metadata_over_plaintext(repo, "c/secret.sops.yaml", pw, age)
    write(repo, "c/secret.sops.yaml", text.replace("encrypted_regex: ^(data|stringData)$",
                                                   "unencrypted_regex: .*"))
    commit(repo)
    assert _findings(repo) == [
        ("a/secret.sops.yaml", "sops-plaintext-value", 6, "critical"),
        ("b/secret.sops.yaml", "k8s-secret-plaintext", 6, "high"),
        ("b/secret.sops.yaml", "sops-mac-missing", 7, "high"),
        ("b/secret.sops.yaml", "sops-no-encrypted-values", 7, "critical"),
        ("c/secret.sops.yaml", "k8s-secret-plaintext", 6, "high"),
        ("c/secret.sops.yaml", "sops-no-encrypted-values", 7, "critical"),
    ]
    res = run_cli("--repo", repo, "audit", "--format", "json")
    assert pw not in res.stdout + res.stderr


def test_a_key_of_yours_that_cannot_open_the_data_key(tmp_path: Path) -> None:
    me, other = age_key(), age_key()
    repo = new_repo(tmp_path / "r")
    pw = fakes.password()
    good = sops_encrypt(repo, "good.sops.yaml", SECRET.format(pw=pw),
                        age=[me.recipient, other.recipient], extra=REGEX)
    bad = sops_encrypt(repo, "bad.sops.yaml", SECRET.format(pw=pw),
                       age=[me.recipient, other.recipient], extra=REGEX)
    # My stanza in bad.sops.yaml replaced by the other key's: listed as mine, opens for them.
    blocks = re.findall(r"(?ms)^          enc: \|\n(.*?-----END AGE ENCRYPTED FILE-----\n)",
                        bad.read_text())
    assert len(blocks) == 2
    bad.write_text(bad.read_text().replace(blocks[0], blocks[1], 1))
    commit(repo)
    keys = write(tmp_path, "me.txt", me.secret + "\n")
    found = _findings(repo, "--identity", str(keys), "--no-keyring")
    assert found == [("bad.sops.yaml", "sops-recipient-unopenable", None, "high")]
    assert good.exists()
    res = run_cli("--repo", repo, "audit", "--identity", str(keys), "--no-keyring")
    assert f"age recipient {me.recipient} is one of your keys" in res.stdout
    assert me.secret not in res.stdout and pw not in res.stdout
    assert _findings(repo) == []  # key-less: nothing to say about whose key opens what


def test_a_pgp_key_of_yours_that_cannot_open_the_data_key(tmp_path: Path) -> None:
    me, other = GpgHome(), GpgHome()
    try:
        mine, theirs = me.generate(), other.generate()
        me.gpg("--import", input=other.export_public(theirs))
        repo = new_repo(tmp_path / "r")
        pw = fakes.password()
        path = write(repo, "s.sops.yaml", SECRET.format(pw=pw))
        done = run_sops("--encrypt", "--pgp", f"{mine},{theirs}", *REGEX, str(path),
                        env={"GNUPGHOME": str(me.path)}, cwd=tmp_path)
        assert done.returncode == 0, done.stderr.decode()
        text = done.stdout.decode()
        blocks = re.findall(r"(?ms)^          enc: \|-?\n(.*?-----END PGP MESSAGE-----)", text)
        assert len(blocks) == 2 and f"fp: {mine}" in text
        # my stanza's message replaced by the other key's (listed as mine, opens for them)
        mine_first = text.index(f"fp: {mine}") < text.index(f"fp: {theirs}")
        path.write_text(text.replace(blocks[0], blocks[1], 1) if mine_first
                        else text.replace(blocks[1], blocks[0], 1))
        commit(repo)
        env = {**clean_env(), "GNUPGHOME": str(me.path)}
        res = run_cli("--repo", repo, "audit", "--format", "json", "--no-keyring",
                      "--max-data-key-age", "100000", env=env)
        found = [(f["path"], f["rule"], f["severity"]) for f in json.loads(res.stdout)["findings"]]
        assert found == [("s.sops.yaml", "sops-recipient-unopenable", "high")], res.stderr
        assert f"PGP key {mine} is one of your keys" in res.stdout and pw not in res.stdout
    finally:
        me.close()
        other.close()
