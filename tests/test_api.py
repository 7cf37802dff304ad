"""The public Python API, used as a script would: only `import sopskit`, with the real sops
binary, real age keys (pyrage, through tests.helpers) and a real git repository. Every call
docs/api.md documents is exercised here."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

import sopskit
from tests.helpers import UPSTREAM, AgeKey, GpgHome, age_key, git, git_repo, run_sops

REGISTRY = """\
version: 1
defaults:
  encrypted_regex: ^(data|stringData)$
clusters:
  sandbox: {{}}
  ops: {{}}
keys:
  admin:
    type: age
    recipient: {admin}
    clusters: ["*"]
  flux-sandbox:
    type: age
    recipient: {flux}
    clusters: [sandbox]
rules:
  - path: clusters/sandbox/**
    clusters: [sandbox]
  - path: "**"
    clusters: [ops]
"""

SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: app
stringData:
  PASSWORD: hunter2-api-test
  PORT: 5432
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, AgeKey, AgeKey]:
    """A git repository with a registry, the admin's keys file where sops looks for it
    (SOPS_AGE_KEY_FILE), and the working directory somewhere else entirely."""
    root = git_repo(tmp_path / "repo")
    admin, flux = age_key(), age_key()
    (root / "keys").mkdir()
    (root / "keys" / "registry.yaml").write_text(REGISTRY.format(admin=admin.recipient,
                                                                 flux=flux.recipient))
    keys = tmp_path / "admin.txt"
    keys.write_text(admin.secret + "\n")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(keys))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return root, admin, flux


def test_all_lists_exactly_the_documented_api() -> None:
    assert sorted(sopskit.__all__) == sorted(["SopskitError", "__version__", "audit", "decrypt",
                                              "encrypt", "load_registry", "verify"])
    for name in sopskit.__all__:
        assert getattr(sopskit, name) is not None
    with pytest.raises(AttributeError):
        sopskit.no_such_thing  # noqa: B018


def test_import_is_cheap() -> None:
    """`import sopskit` loads none of the engine (the CLI's start-up is benchmarked)."""
    code = ("import sys, sopskit; print(sorted(m for m in sys.modules"
            " if m.startswith('sopskit')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "['sopskit']"


def test_encrypt_decrypt_verify_with_str_and_pathlike(repo: tuple[Path, AgeKey, AgeKey]) -> None:
    root, admin, flux = repo
    plain = root / "clusters" / "sandbox" / "app.yaml"
    plain.parent.mkdir(parents=True)
    plain.write_text(SECRET)
    out = root / "clusters" / "sandbox" / "app.enc.yaml"

    ciphertext = sopskit.encrypt(str(plain), output=str(out))  # recipients from the registry
    assert out.read_bytes() == ciphertext
    assert b"hunter2-api-test" not in ciphertext
    assert sorted(sopskit.load_registry(root).recipients_for("clusters/sandbox/app.enc.yaml")) \
        == sorted([admin.recipient, flux.recipient])

    data = sopskit.decrypt(out)  # a Path
    assert data["stringData"] == {"PASSWORD": "hunter2-api-test", "PORT": 5432}
    assert data["kind"] == "Secret"
    raw = sopskit.decrypt(os.fspath(out), raw=True)
    sops = run_sops("decrypt", out, env={"SOPS_AGE_KEY": admin.secret})
    assert sops.returncode == 0 and raw == sops.stdout  # byte-identical to `sops -d`
    assert sopskit.decrypt(out, extract='["stringData"]["PASSWORD"]') == "hunter2-api-test"
    assert sopskit.decrypt(out, extract='["stringData"]["PORT"]') == 5432
    assert sopskit.decrypt(out, extract='["stringData"]', raw=True) == \
        b"PASSWORD: hunter2-api-test\nPORT: 5432\n"

    report = sopskit.verify(out)
    assert report.ok and report.mac_checked and report.problems == []


def test_explicit_identities_replace_discovery(repo: tuple[Path, AgeKey, AgeKey],
                                               tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    root, _admin, flux = repo
    path = root / "clusters" / "sandbox" / "db.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(SECRET)
    sopskit.encrypt(path, in_place=True)
    flux_keys = tmp_path / "flux.txt"
    flux_keys.write_text(flux.secret + "\n")
    monkeypatch.delenv("SOPS_AGE_KEY_FILE")
    with pytest.raises(sopskit.SopskitError) as info:
        sopskit.decrypt(path)  # nothing discovered: no key
    assert info.value.exit_code == 3
    assert sopskit.decrypt(path, identities=[flux_keys])["stringData"]["PORT"] == 5432
    # without any key the MAC cannot be checked, and verify says so instead of failing
    unchecked = sopskit.verify(path)
    assert unchecked.ok and not unchecked.mac_checked
    strict = sopskit.verify(path, require_mac=True)
    assert not strict.ok and strict.problems
    assert sopskit.verify(path, identities=[str(flux_keys)]).mac_checked
    for one in (str(flux_keys), flux_keys, bytes(flux_keys)):  # one path, not a list of them
        with pytest.raises(sopskit.SopskitError, match="a list of key files") as info:
            sopskit.decrypt(path, identities=one)  # type: ignore[arg-type]
        assert info.value.exit_code == 2


def test_explicit_recipients_dotenv_and_binary(repo: tuple[Path, AgeKey, AgeKey]) -> None:
    root, _admin, _flux = repo
    other = age_key()
    env = root / "app.env"
    env.write_text("USER=app\nTOKEN=tok-123\n")
    ciphertext = sopskit.encrypt(env, age=[other.recipient])  # returned, not written
    assert env.read_text() == "USER=app\nTOKEN=tok-123\n"
    enc = root / "app.enc.env"
    enc.write_bytes(ciphertext)
    keys = root.parent / "other.txt"
    keys.write_text(other.secret + "\n")
    assert sopskit.decrypt(enc, identities=[keys]) == {"USER": "app", "TOKEN": "tok-123"}

    blob = root / "blob.bin"
    blob.write_bytes(bytes(range(10)) + b"\xff")
    sopskit.encrypt(blob, in_place=True, age=[other.recipient])
    assert sopskit.decrypt(blob, identities=[keys]) == bytes(range(10)) + b"\xff"


def test_yaml_timestamps_and_several_documents(repo: tuple[Path, AgeKey, AgeKey]) -> None:
    root, admin, _flux = repo
    path = root / "multi.yaml"
    path.write_text("data:\n  when: 2024-01-02T03:04:05Z\n---\ndata:\n  second: [1, two]\n")
    sopskit.encrypt(path, in_place=True, age=[admin.recipient])
    first, second = sopskit.decrypt(path)
    assert isinstance(first["data"]["when"], datetime) and first["data"]["when"].year == 2024
    assert second == {"data": {"second": [1, "two"]}}


def test_errors_carry_the_cli_exit_codes(repo: tuple[Path, AgeKey, AgeKey]) -> None:
    root, admin, _flux = repo
    with pytest.raises(sopskit.SopskitError) as usage:
        sopskit.encrypt(root / "x.yaml", output=root / "y.yaml", in_place=True)
    assert usage.value.exit_code == 2
    with pytest.raises(sopskit.SopskitError) as missing:
        sopskit.decrypt(root / "does-not-exist.yaml")
    assert missing.value.exit_code == 3 and "does-not-exist.yaml" in str(missing.value)
    path = root / "t.yaml"
    path.write_text("data:\n  password: original-value\n")
    sopskit.encrypt(path, in_place=True, age=[admin.recipient])
    text = path.read_text()
    at = text.index("ENC[AES256_GCM,data:") + len("ENC[AES256_GCM,data:")
    path.write_text(text[:at] + ("B" if text[at] != "B" else "C") + text[at + 1:])
    report = sopskit.verify(path)
    assert not report.ok and report.problems
    with pytest.raises(sopskit.SopskitError) as bad:
        sopskit.decrypt(path)
    assert bad.value.exit_code in (1, 3)


def test_load_registry_and_audit(repo: tuple[Path, AgeKey, AgeKey],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    root, admin, flux = repo
    registry = sopskit.load_registry(root)
    assert set(registry.keys) == {"admin", "flux-sandbox"}
    assert registry.keys["admin"].recipient.id == admin.recipient
    assert list(registry.clusters) == ["sandbox", "ops"]
    assert [r.path for r in registry.rules] == ["clusters/sandbox/**", "**"]
    assert registry.recipients_for(root / "clusters" / "sandbox" / "a.yaml") == sorted(
        [admin.recipient, flux.recipient])
    assert registry.recipients_for("other/a.yaml") == [admin.recipient]
    explained = registry.resolve("clusters/sandbox/b.yaml")
    assert explained.rule.path == "clusters/sandbox/**" and explained.clusters == ("sandbox",)
    assert sorted(k.name for k in explained.keys) == ["admin", "flux-sandbox"]

    (root / "config.yaml").write_text("db_password: Sup3rS3cretValue-9f8e7d\n")  # sopskit: allow generic-secret
    git(root, "add", "-A")
    result = sopskit.audit(root)
    assert result.summary["findings"] == len(result.findings) >= 1
    assert any(f.path == "config.yaml" and f.severity.label in ("high", "critical")
               for f in result.findings)
    staged = sopskit.audit(root, staged=True)  # the index: config.yaml is staged
    assert any(f.path == "config.yaml" for f in staged.findings)
    monkeypatch.chdir(root)
    assert sopskit.load_registry().path == root / "keys" / "registry.yaml"
    narrowed = sopskit.audit("keys")  # a directory: only what is under it
    assert not [f for f in narrowed.findings if f.path == "config.yaml"]  # outside keys/


def test_pgp_files_through_gnupg(upstream_gpg: GpgHome, monkeypatch: pytest.MonkeyPatch) -> None:
    """PGP recipients are read through GnuPG (GNUPGHOME), as the CLI does: the upstream sops
    vectors decrypt to exactly what `sops -d` printed for them."""
    monkeypatch.setenv("GNUPGHOME", str(upstream_gpg.path))
    for name in ("example.yaml", "example.json", "example.ini"):
        raw = sopskit.decrypt(UPSTREAM / name, raw=True)
        assert raw == (UPSTREAM / "decrypted" / name).read_bytes()
        assert sopskit.verify(UPSTREAM / name).mac_checked
    assert sopskit.decrypt(UPSTREAM / "example.json")["firstName"] == "John"
