"""`audit --history` spares a version whose changed lines hold nothing a detector reads
(history/delta.py): a Renovate-style bump is not scanned, while a value added to an existing
Secret, a private key completed across changed and unchanged lines, a value under an
unchanged key and a value uncovered by a removed line are still found in their version."""

from __future__ import annotations

import base64
from pathlib import Path

from sopskit.audit.scan import ScanSettings, scan_bytes
from sopskit.history.delta import inherits
from sopskit.history.leaks import HistoryScan, scan_history
from tests.audit import fakes
from tests.audit.evasions import corpus_keys
from tests.audit.repos import commit, new_repo, write

SETTINGS = ScanSettings()
RELEASE = """apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: app
spec:
  values:
    image:
      repository: ghcr.io/example/app
      tag: {tag}
    env:
      TZ: Europe/Paris
"""


def test_renovate_bump_is_spared() -> None:
    old = RELEASE.format(tag="v1.2.3").encode()
    new = RELEASE.format(tag="v1.2.4@sha256:" + "a" * 64).encode()
    assert inherits("apps/app/helmrelease.yaml", old, new, SETTINGS)


def _spared(old: str, new: str, path: str = "apps/app/values.yaml") -> bool:
    spared = inherits(path, old.encode(), new.encode(), SETTINGS)
    if spared:  # the claim itself: nothing new that a full scan of `new` would report
        before = {(f.rule, f.fingerprint) for f in scan_bytes(path, old.encode(),
                                                              SETTINGS).findings}
        after = {(f.rule, f.fingerprint) for f in scan_bytes(path, new.encode(),
                                                             SETTINGS).findings}
        assert after <= before
    return spared


def test_context_keeps_the_full_scan() -> None:
    pw = fakes.password()
    # the value on the line below an unchanged `password:` key
    assert not _spared("db:\n  password:\n    old-value-1\n", f"db:\n  password:\n    {pw}\n")
    # a block scalar's first line under an unchanged key
    assert not _spared("db:\n  password: |\n    x\n", f"db:\n  password: |\n    {pw}\n")
    # a removed line uncovers the value (`user: v` / `pass: v` is a known default)
    assert not _spared(f"user: {pw}\nport: 1\npass: {pw}\n", f"port: 1\npass: {pw}\n")
    # an allow comment anywhere, a kind change, a provider token without any keyword
    assert not _spared(f"a: {pw}  # sopskit: allow generic-secret\n", f"a: {pw}\n")
    assert not _spared("kind: ExternalSecret\nx: 1\n", "kind: Foo\nx: 1\n")
    assert not _spared("url: https://example.com\n", f"note: {fakes.github()}\n")
    # an env var named like a secret whose value changed on the line below
    assert not _spared("- name: API_TOKEN\n  value: a\n", f"- name: API_TOKEN\n  value: {pw}\n")


def _history(tmp_path: Path, versions: list[tuple[str, str]]) -> tuple[list[str], HistoryScan]:
    repo = new_repo(tmp_path / "repo")
    shas = []
    for path, text in versions:
        write(repo, path, text)
        shas.append(commit(repo, f"v{len(shas)}"))
    write(repo, "README.md", "today\n")  # HEAD's blobs are always scanned: move past them
    for path, _ in versions:
        (repo / path).unlink(missing_ok=True)
    commit(repo, "clean up")
    return shas, scan_history(repo, SETTINGS, jobs=1)


def test_history_spares_bumps_and_finds_a_value_added_to_a_secret(tmp_path: Path) -> None:
    value = fakes.password()
    secret = ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\ndata:\n"
              "  host: " + base64.b64encode(b"db.example.invalid").decode() + "\n")
    added = secret + "  zz9: " + base64.b64encode(value.encode()).decode() + "\n"
    shas, data = _history(tmp_path, [
        *(("apps/app/helmrelease.yaml", RELEASE.format(tag=f"v1.2.{n}")) for n in range(5)),
        ("apps/app/secret.yaml", secret),
        ("apps/app/secret.yaml", added),
    ])
    assert data.blobs_inherited == 4  # the four bumps after the first release
    found = [(f.rule, f.path, f.commit) for f in data.findings]
    assert found == [("k8s-secret-plaintext", "apps/app/secret.yaml", shas[6])]
    assert _found(data) == _oracle(shas[5:], [secret, added], "apps/app/secret.yaml")


def test_history_finds_a_key_completed_across_unchanged_lines(tmp_path: Path) -> None:
    key = corpus_keys().rsa.strip().split("\n")
    half = len(key) // 2
    before = "config:\n  tls: |\n" + "".join(f"    {line}\n" for line in key[:half])
    after = "config:\n  tls: |\n" + "".join(f"    {line}\n" for line in key)
    assert not inherits("apps/x/values.yaml", before.encode(), after.encode(), SETTINGS)
    shas, data = _history(tmp_path, [("apps/x/values.yaml", before),
                                     ("apps/x/values.yaml", after)])
    assert _found(data) == _oracle(shas, [before, after], "apps/x/values.yaml")
    assert data.findings


def _found(data: HistoryScan) -> set[tuple[str, str, str | None]]:
    return {(f.rule, f.fingerprint, f.commit) for f in data.findings}


def _oracle(shas: list[str], texts: list[str], path: str) -> set[tuple[str, str, str | None]]:
    """What scanning every version in full reports: each value at its oldest commit."""
    first: dict[tuple[str, str], str] = {}
    for sha, text in zip(shas, texts, strict=True):
        for f in scan_bytes(path, text.encode(), SETTINGS).findings:
            first.setdefault((f.rule, f.fingerprint), sha)
    return {(rule, fp, sha) for (rule, fp), sha in first.items()}
