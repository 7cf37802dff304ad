"""Checks of sops files made by the real sops: recipients against a registry (missing,
unauthorised, retired, revoked, no rule), integrity (plaintext value, malformed value, no
MAC, MAC mismatch with a key), key expiry and .sops.yaml drift."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sopskit.registry.schema import load_registry
from sopskit.registry.sops_config import render
from tests.audit import fakes
from tests.audit.repos import commit, new_repo, sops_encrypt, write
from tests.helpers import AgeKey, GpgHome, age_key, run_cli, run_sops

SECRET = "kind: Secret\nmetadata:\n  name: s\nstringData:\n  password: {pw}\n"
REGEX = ("--encrypted-regex", "^(data|stringData)$")


def _registry(keys: dict[str, AgeKey], soon: str) -> str:
    def key(name: str, clusters: str, status: str = "active", expires: str | None = None) -> str:
        exp = f"\n    expires: {expires}" if expires else ""
        return (f"  {name}:\n    type: age\n    recipient: {keys[name].recipient}\n"
                f"    clusters: [{clusters}]\n    status: {status}{exp}\n")
    return ("version: 1\ndefaults:\n  encrypted_regex: ^(data|stringData)$\n"
            "  encrypted_files: ['**/*.sops.*']\nclusters:\n  sandbox: {}\nkeys:\n"
            + key("admin", '"*"', expires=soon) + key("flux", "sandbox")
            + key("old", '"*"', "retired") + key("leaked", '"*"', "revoked")
            + "rules:\n  - path: clusters/sandbox/**\n    clusters: [sandbox]\n")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, AgeKey], str]:
    tmp = tmp_path_factory.mktemp("w")
    repo = new_repo(tmp / "repo")
    keys = {n: age_key() for n in ("admin", "flux", "old", "leaked", "stranger")}
    soon = (datetime.now(UTC).date() + timedelta(days=10)).isoformat()
    write(repo, "keys/registry.yaml", _registry(keys, soon))
    write(repo, ".sops.yaml", render(load_registry(repo / "keys/registry.yaml")))
    pw = fakes.password()
    for name, who in {"ok": ["admin", "flux"], "missing": ["admin"],
                      "retired": ["admin", "flux", "old"], "revoked": ["admin", "flux", "leaked"],
                      "stranger": ["admin", "flux", "stranger"]}.items():
        sops_encrypt(repo, f"clusters/sandbox/{name}.sops.yaml", SECRET.format(pw=pw),
                     age=[keys[k].recipient for k in who], extra=REGEX)
    sops_encrypt(repo, "elsewhere/x.sops.yaml", SECRET.format(pw=pw),
                 age=[keys["admin"].recipient], extra=REGEX)
    write(repo, "clusters/sandbox/forgot.sops.yaml", SECRET.format(pw=pw))
    commit(repo)
    return repo, keys, pw


def _findings(repo: Path, *args: str) -> list[dict]:
    res = run_cli("--repo", repo, "audit", "--format", "json", *args)
    assert res.code in (0, 1), res.stderr
    found: list[dict] = json.loads(res.stdout)["findings"]
    if "--fail-on" not in args:
        assert res.code == int(any(f["severity"] in ("critical", "high") for f in found)), \
            (res.code, res.stderr)  # exit 1 exactly when a finding reaches --fail-on (default high)
    return found


def test_recipients_against_the_registry(world: tuple[Path, dict[str, AgeKey], str]) -> None:
    repo, _, _ = world
    got = {(f["path"].rsplit("/", 1)[-1], f["rule"], f["severity"]) for f in _findings(repo)
           if f["category"] in ("recipients", "config")}
    assert got == {("missing.sops.yaml", "recipient-missing", "high"),
                   ("retired.sops.yaml", "recipient-retired", "medium"),
                   ("revoked.sops.yaml", "recipient-revoked", "critical"),
                   ("stranger.sops.yaml", "recipient-unauthorised", "high"),
                   ("x.sops.yaml", "no-rule", "medium")}


def test_messages_name_keys_not_values(world: tuple[Path, dict[str, AgeKey], str]) -> None:
    repo, keys, pw = world
    found = _findings(repo)
    revoked = next(f for f in found if f["rule"] == "recipient-revoked")
    assert "leaked" in revoked["message"] and "rotate" in revoked["message"]
    missing = next(f for f in found if f["rule"] == "recipient-missing")
    assert keys["flux"].recipient in missing["message"]
    assert pw not in json.dumps(found)


def test_name_promising_encryption_without_metadata(
        world: tuple[Path, dict[str, AgeKey], str]) -> None:
    repo, _, _ = world
    rules = {f["rule"] for f in _findings(repo) if f["path"].endswith("forgot.sops.yaml")}
    assert rules == {"unencrypted-file", "k8s-secret-plaintext"}


def test_key_expiring_soon(world: tuple[Path, dict[str, AgeKey], str]) -> None:
    repo, _, _ = world
    found = [f for f in _findings(repo) if f["category"] == "rotation"]
    assert [(f["rule"], f["path"]) for f in found] == [("key-expiring", "keys/registry.yaml")]
    assert "in 10 days" in found[0]["message"]
    assert _findings(repo, "--expiry-warning", "5") == [
        f for f in _findings(repo) if f["category"] != "rotation"]


def test_config_drift(world: tuple[Path, dict[str, AgeKey], str], tmp_path: Path) -> None:
    repo, _, _ = world
    assert not [f for f in _findings(repo) if f["rule"] == "config-drift"]
    config = repo / ".sops.yaml"
    original = config.read_text()
    try:
        config.write_text(original.replace("creation_rules:", "creation_rules:\n  # edited"))
        drift = [f for f in _findings(repo) if f["rule"] == "config-drift"]
        assert [(f["path"], f["line"]) for f in drift] == [(".sops.yaml", 4)]
    finally:
        config.write_text(original)


def test_invalid_registry_is_a_finding(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    write(repo, "keys/registry.yaml", "version: 1\nkeys:\n  k:\n    type: age\n"
          "    recipient: age1notvalid\n    clusters: [nowhere]\n")
    res = run_cli("--repo", repo, "audit", "--format", "json")
    assert res.code == 1, res.stderr
    assert {f["rule"] for f in json.loads(res.stdout)["findings"]} == {"registry-invalid"}


def _tamper(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_integrity_without_a_key(tmp_path: Path, age: AgeKey) -> None:
    repo = new_repo(tmp_path / "r")
    pw = fakes.password()
    for name in ("plain", "malformed", "nomac"):
        sops_encrypt(repo, f"{name}.sops.yaml", SECRET.format(pw=pw), age=[age.recipient],
                     extra=REGEX)
    text = (repo / "plain.sops.yaml").read_text()
    enc = text.split("password: ", 1)[1].split("\n", 1)[0]
    _tamper(repo / "plain.sops.yaml", enc, pw)
    _tamper(repo / "malformed.sops.yaml", ",tag:", ",tog:")
    mac = text.split("mac: ", 1)[1].split("\n", 1)[0]
    nomac = (repo / "nomac.sops.yaml").read_text().split("mac: ", 1)[1].split("\n", 1)[0]
    _tamper(repo / "nomac.sops.yaml", f"mac: {nomac}", 'mac: ""')
    assert mac
    commit(repo)
    res = run_cli("--repo", repo, "audit", "--format", "json")
    found = {(f["path"], f["rule"], f["line"]) for f in json.loads(res.stdout)["findings"]}
    assert found == {("plain.sops.yaml", "sops-plaintext-value", 5),
                     ("malformed.sops.yaml", "sops-value-malformed", 5),
                     ("nomac.sops.yaml", "sops-mac-missing", 6)}
    assert pw not in res.stdout
    text_report = run_cli("--repo", repo, "audit").stdout
    assert "MAC not checked: no identity available" in text_report


def test_mac_mismatch_needs_a_key(tmp_path: Path, age: AgeKey) -> None:
    repo = new_repo(tmp_path / "r")
    sops_encrypt(repo, "s.sops.yaml", SECRET.format(pw=fakes.password()),
                 age=[age.recipient], extra=REGEX)
    _tamper(repo / "s.sops.yaml", "name: s", "name: t")  # plaintext, but under the MAC
    commit(repo)
    keys = write(tmp_path, "keys.txt", age.secret + "\n")
    assert _findings(repo) == []
    found = _findings(repo, "--identity", str(keys), "--no-keyring")
    assert [(f["rule"], f["severity"]) for f in found] == [("sops-mac-mismatch", "critical")]


def test_parse_error_and_ciphertext_at_plaintext_path(tmp_path: Path, age: AgeKey) -> None:
    repo = new_repo(tmp_path / "r")
    for name in ("cut", "moved"):
        sops_encrypt(repo, f"{name}.sops.yaml", SECRET.format(pw=fakes.password()),
                     age=[age.recipient], extra=REGEX)
    cut = repo / "cut.sops.yaml"
    cut.write_text(cut.read_text().replace("stringData:", "stringData: [", 1))
    moved = repo / "moved.sops.yaml"
    enc = moved.read_text().split("password: ", 1)[1].split("\n", 1)[0]
    _tamper(moved, "name: s", f"name: {enc}")
    commit(repo)
    found = {(f["path"], f["rule"]) for f in _findings(repo)}
    assert found == {("cut.sops.yaml", "sops-parse-error"),
                     ("moved.sops.yaml", "sops-ciphertext-at-plaintext-path")}
    res = run_cli("--repo", repo, "audit")
    assert ("no key registry (keys/registry.yaml) and no .sops.yaml above any sops file: "
            "recipients not checked") in res.stdout


def test_pgp_recipient_stored_as_a_long_key_id(tmp_path: Path, gpg_home: GpgHome) -> None:
    repo = new_repo(tmp_path / "r")
    fp = gpg_home.fp  # type: ignore[attr-defined]
    write(repo, "keys/pgp/bot.asc", gpg_home.export_public(fp).decode())
    write(repo, "keys/registry.yaml", "version: 1\nclusters:\n  sandbox: {}\nkeys:\n  bot:\n"
          f"    type: pgp\n    fingerprint: {fp}\n    public_key: pgp/bot.asc\n"
          "    clusters: [sandbox]\nrules:\n  - path: '**'\n    clusters: [sandbox]\n")
    path = write(repo, "s.sops.yaml", SECRET.format(pw=fakes.password()))
    done = run_sops("--encrypt", "--pgp", fp[-16:], *REGEX, str(path),
                    env={"GNUPGHOME": str(gpg_home.path)}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    path.write_bytes(done.stdout)
    assert f"fp: {fp[-16:]}" in path.read_text()
    commit(repo)
    assert [f for f in _findings(repo) if f["category"] == "recipients"] == []


def test_ciphertext_whose_sops_metadata_was_cut_off(tmp_path: Path) -> None:
    """A sops file whose `sops:` block was lost (a bad merge, an editor) cannot be decrypted
    by anyone; the audit says so where the first ENC[...] is. Code and docs that quote such
    values are not data files and stay quiet."""
    repo = new_repo(tmp_path / "r")
    key = age_key()
    path = sops_encrypt(repo, "apps/db.yaml", SECRET.format(pw="hunter2-x9"), age=[key.recipient],
                        extra=REGEX)
    text = path.read_text()
    path.write_text(text[:text.index("\nsops:")] + "\n")
    env_file = sops_encrypt(repo, "apps/app.env", "TOKEN=abc123\n", age=[key.recipient])
    env_file.write_text("".join(line for line in env_file.read_text().splitlines(True)
                                if not line.startswith("sops_")))
    quoted = "password: ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:str]\n"
    write(repo, "docs/howto.md", f"An encrypted value looks like\n\n    {quoted}")
    write(repo, "cmd/main.go", f'const example = "{quoted.strip()}"\n')
    commit(repo)
    found = {(f["path"], f["rule"], f["line"]) for f in _findings(repo)}
    # the ciphertext itself is no plaintext secret: one integrity finding per file, no other
    assert found == {("apps/db.yaml", "sops-metadata-missing", 5),
                     ("apps/app.env", "sops-metadata-missing", 1)}
