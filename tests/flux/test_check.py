"""`sopskit flux check` on a real Flux repository built in tmp_path with real git and files
encrypted by the real sops: a bootstrap-style flux-system per cluster, Kustomizations with
and without decryption, an overlay with a component, generators, and a semver-tracked
production with annotated, lightweight and pre-release tags. Each rule fires exactly
where the mistake is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import AgeKey, GpgHome, age_key, git, git_repo, run_cli, run_sops
from tests.rekey.test_plan import KMS_ARN, _add_kms_stanza

SYNC = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {{name: flux-system, namespace: flux-system}}
spec:
  url: ssh://git@example.invalid/fleet
  ref: {{{ref}}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: flux-system, namespace: flux-system}}
spec:
  path: ./clusters/{cluster}
  sourceRef: {{kind: GitRepository, name: flux-system}}
"""


def ks(name: str, path: str, secret: str | None = "sops-age") -> str:
    dec = (f"\n  decryption:\n    provider: sops\n    secretRef:\n      name: {secret}"
           if secret else "")
    return (f"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n"
            f"  name: {name}\n  namespace: flux-system\nspec:\n  path: {path}\n"
            f"  sourceRef:\n    kind: GitRepository\n    name: flux-system{dec}\n")


SECRET = ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\nstringData:\n"
          "  {entry}: not-a-real-secret\n")

PLAIN = {
    "clusters/sandbox/flux-system/gotk-sync.yaml": SYNC.format(ref="branch: main",
                                                               cluster="sandbox"),
    "clusters/sandbox/flux-system/kustomization.yaml": "resources: [gotk-sync.yaml]\n",
    "clusters/sandbox/apps.yaml": ks("apps", "./apps/sandbox"),
    "clusters/sandbox/core.yaml": ks("core", "./core", secret=None),
    "clusters/production/flux-system/gotk-sync.yaml": SYNC.format(
        ref='semver: ">=1.0.0 <2.0.0"', cluster="production"),
    "clusters/production/flux-system/kustomization.yaml": "resources: [gotk-sync.yaml]\n",
    "clusters/production/apps.yaml": ks("apps", "./apps/production", secret="sops-keys"),
    "core/kustomization.yaml": "resources: [config.yaml]\n",
    "core/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: core}\n"
                        "data: {a: b}\n",
    "apps/base/kustomization.yaml": "resources: [deploy.yaml]\n",
    "apps/base/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
    "apps/components/db/kustomization.yaml":
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
        "resources: [db.sops.yaml]\n",
    "apps/sandbox/kustomization.yaml":
        "resources: [../base, sandbox.sops.yaml]\ncomponents: [../components/db]\n"
        "secretGenerator:\n  - name: token\n    envs: [token.sops.env]\n",
    "apps/production/kustomization.yaml":
        "resources: [../base, prod.sops.yaml, prod-2.sops.yaml, sandbox-only.sops.yaml,"
        " settings.sops.yaml, ../gone]\ncomponents: [../components/db]\n",
}

# (path, recipients: "s" sandbox key, "p" production key, "a" admin key, plaintext)
ENCRYPTED = {
    "apps/components/db/db.sops.yaml": ("spa", SECRET.format(name="db", entry="password")),
    "apps/sandbox/sandbox.sops.yaml": ("sa", SECRET.format(name="sb", entry="password")),
    "apps/sandbox/token.sops.env": ("sa", "TOKEN=not-a-real-token\n"),
    "apps/production/prod.sops.yaml": ("pa", SECRET.format(name="p1", entry="password")),
    "apps/production/prod-2.sops.yaml": ("pa", SECRET.format(name="p2", entry="password")),
    "apps/production/sandbox-only.sops.yaml": ("sa", SECRET.format(name="p3", entry="pw")),
    "apps/production/settings.sops.yaml": ("pa", "apiVersion: v1\nkind: ConfigMap\n"
                                                 "metadata: {name: settings}\n"
                                                 "data: {password: not-real}\n"),
    "clusters/sandbox/flux-system/sops-age.sops.yaml": ("a", SECRET.format(
        name="sops-age", entry="age.key")),
    "clusters/production/flux-system/sops-age.sops.yaml": ("a", SECRET.format(
        name="sops-age", entry="production.agekey")),
}


def _encrypt(repo: Path, rel: str, recipients: list[str], text: str) -> None:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    args = ["encrypt", "--age", ",".join(recipients)]
    if rel.endswith(".yaml"):
        args += ["--encrypted-regex", "^(data|stringData)$"]
    done = run_sops(*args, str(path), env={})
    assert done.returncode == 0, done.stderr
    path.write_bytes(done.stdout)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, AgeKey]]:
    keys = {"s": age_key(), "p": age_key(), "a": age_key()}
    repo = git_repo(tmp_path_factory.mktemp("fleet") / "repo")
    for rel, text in PLAIN.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    for rel, (who, text) in ENCRYPTED.items():
        _encrypt(repo, rel, [keys[k].recipient for k in who], text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "fleet")
    git(repo, "tag", "-a", "v1.0.0", "-m", "release 1.0.0")  # annotated
    git(repo, "tag", "dev-snapshot")  # not semver: ignored
    # production's infra Kustomization applies a sops Secret without decryption
    (repo / "clusters/production/infra.yaml").write_text(ks("infra", "./infra", secret=None))
    (repo / "infra").mkdir()
    _encrypt(repo, "infra/secret.sops.yaml", [keys["p"].recipient, keys["a"].recipient],
             SECRET.format(name="infra", entry="token"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "infra")
    git(repo, "tag", "v1.1.0")  # lightweight: production reconciles this one
    git(repo, "tag", "-a", "v1.2.0-rc.1", "-m", "pre-release")  # excluded by the range
    git(repo, "tag", "v2.0.0")  # outside the range
    registry = ("version: 1\nclusters:\n  sandbox: {}\n  production: {}\nkeys:\n"
                + "".join(f"  {n}:\n    type: age\n    recipient: {keys[k].recipient}\n"
                          f"    clusters: [{c}]\n"
                          for n, k, c in (("flux-sandbox", "s", "sandbox"),
                                          ("flux-production", "p", "production"),
                                          ("admin", "a", '"*"')))
                + 'rules:\n  - path: "**"\n    clusters: [sandbox, production]\n')
    (repo.parent / "registry.yaml").write_text(registry)
    return repo, keys


def _check(repo: Path, *args: str) -> tuple[int, dict[str, object]]:
    done = run_cli("--repo", repo, "flux", "check", "--format", "json", *args)
    assert done.code in (0, 1), done.stderr
    report = json.loads(done.stdout)
    assert done.code == int(bool(report["findings"])), report["findings"]  # 1 exactly with findings
    return done.code, report


def _found(report: dict[str, object]) -> set[tuple[str, str, str]]:
    return {(f["rule"], f["cluster"], f["path"]) for f in report["findings"]}  # type: ignore


def test_each_rule_fires_where_the_mistake_is(world: tuple[Path, dict[str, AgeKey]]) -> None:
    repo, _ = world
    code, report = _check(repo, "--registry", str(repo.parent / "registry.yaml"))
    assert code == 1
    assert _found(report) == {
        ("flux-decryption-missing", "production", "clusters/production/infra.yaml"),
        ("flux-key-missing", "production", "apps/production/sandbox-only.sops.yaml"),
        ("flux-secret-ref-mismatch", "production", "clusters/production/apps.yaml"),
        ("flux-age-key-name", "sandbox", "clusters/sandbox/flux-system/sops-age.sops.yaml"),
        ("flux-sops-not-secret", "production", "apps/production/settings.sops.yaml"),
        ("flux-path-missing", "production", "apps/production/kustomization.yaml"),
    }
    messages = {f["rule"]: f["message"] for f in report["findings"]}  # type: ignore
    assert messages["flux-key-missing"].endswith(
        "(Kustomization flux-system/apps: clusters/production/apps.yaml)")
    assert "flux-production" in messages["flux-key-missing"]
    clusters = {c["name"]: c for c in report["clusters"]}  # type: ignore
    prod = clusters["production"]
    assert prod["source"]["semver"] == ">=1.0.0 <2.0.0"
    assert prod["source"]["resolved"].startswith("v1.1.0@sha1:")  # not rc, not 2.0.0
    assert clusters["sandbox"]["source"]["resolved"].startswith("main@sha1:")
    assert prod["decryption_keys"] == ["flux-production"]
    by_name = {k["name"]: k for k in clusters["sandbox"]["kustomizations"]}
    assert set(by_name) == {"flux-system", "apps", "core"}
    assert by_name["apps"]["decryption"] == {"provider": "sops", "secret": "sops-age"}
    assert by_name["apps"]["sops_files"] == ["apps/components/db/db.sops.yaml",
                                             "apps/sandbox/sandbox.sops.yaml",
                                             "apps/sandbox/token.sops.env"]
    assert by_name["core"]["decryption"] is None and by_name["core"]["sops_files"] == []
    for f in report["findings"]:  # type: ignore
        assert (f["category"] == "delivery" and f["kustomization"] is not None) \
            or f["rule"] == "flux-age-key-name"


def test_without_registry_the_outlier_is_reported(world: tuple[Path, dict[str, AgeKey]]
                                                  ) -> None:
    repo, _ = world
    _, report = _check(repo, "--cluster", "production")
    rules = _found(report)
    assert ("flux-recipient-outlier", "production",
            "apps/production/sandbox-only.sops.yaml") in rules
    assert not any(r[0] == "flux-key-missing" for r in rules)
    assert {c["name"] for c in report["clusters"]} == {"production"}  # type: ignore


def test_tracked_reads_each_cluster_at_its_revision(world: tuple[Path, dict[str, AgeKey]]
                                                    ) -> None:
    repo, _ = world
    # the working tree gains a broken path; production reconciles v1.1.0, sandbox main's tip
    (repo / "clusters/production/extra.yaml").write_text(ks("extra", "./nowhere"))
    try:
        _, tracked = _check(repo, "--tracked", "--cluster", "production")
        _, working = _check(repo, "--cluster", "production")
    finally:
        (repo / "clusters/production/extra.yaml").unlink()
    assert ("flux-path-missing", "production", "clusters/production/extra.yaml") \
        in _found(working)
    assert not any(p == "clusters/production/extra.yaml" for _, _, p in _found(tracked))
    assert ("flux-decryption-missing", "production", "clusters/production/infra.yaml") \
        in _found(tracked)  # v1.1.0 has infra.yaml (v1.0.0 has not)


def test_text_and_sarif_and_usage(world: tuple[Path, dict[str, AgeKey]]) -> None:
    repo, _ = world
    text = run_cli("--repo", repo, "flux", "check")
    assert text.code == 1
    assert "cluster production (entry clusters/production)" in text.stdout
    assert "tracks semver >=1.0.0 <2.0.0 -> v1.1.0@sha1:" in text.stdout
    assert "not-a-real" not in text.stdout
    sarif = run_cli("--repo", repo, "flux", "check", "--format", "sarif")
    results = json.loads(sarif.stdout)["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"flux-decryption-missing", "flux-path-missing"}
    bad = run_cli("--repo", repo, "flux", "check", "--cluster", "nope")
    assert bad.code == 2 and "no Flux cluster nope" in bad.stderr and "Traceback" not in \
        bad.stderr


def test_audit_includes_the_delivery_category(world: tuple[Path, dict[str, AgeKey]]) -> None:
    repo, _ = world
    done = run_cli("--repo", repo, "audit", "--format", "json")
    findings = json.loads(done.stdout)["findings"]
    rules = {f["rule"] for f in findings}
    assert "flux-decryption-missing" in rules and "flux-path-missing" in rules
    # the audit hands flux the files its scan read (no second read): same findings
    _, report = _check(repo)
    delivery = {(f["rule"], f["path"], f["line"]) for f in findings
                if f["category"] == "delivery"}
    assert delivery == {(f["rule"], f["path"], f["line"])  # type: ignore[index]
                        for f in report["findings"]}  # type: ignore[attr-defined]


def test_clean_layout_passes(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "clean")
    for rel, text in {
        "clusters/dev/flux-system/gotk-sync.yaml": SYNC.format(ref="branch: main",
                                                               cluster="dev"),
        "clusters/dev/flux-system/kustomization.yaml": "resources: [gotk-sync.yaml]\n",
        "clusters/dev/apps.yaml": ks("apps", "./apps"),
        "apps/kustomization.yaml": "resources: [app.yaml]\n",
        "apps/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    }.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "clean")
    code, report = _check(repo)
    assert code == 0 and report["findings"] == []


def test_decryption_missing_only_where_decryption_would_help(tmp_path: Path) -> None:
    """kustomize-controller decrypts v1 Secrets and secretGenerator sources only: a sops
    ConfigMap or configMapGenerator source is applied encrypted with or without
    `decryption` (flux-sops-not-secret), so asking for `decryption` there fixes nothing."""
    key = age_key()
    repo = git_repo(tmp_path / "r")
    for rel, text in {
        "clusters/dev/flux-system/gotk-sync.yaml": SYNC.format(ref="branch: main",
                                                               cluster="dev"),
        "clusters/dev/settings.yaml": ks("settings", "./settings", secret=None),
        "clusters/dev/tokens.yaml": ks("tokens", "./tokens", secret=None),
        "settings/kustomization.yaml": "resources: [settings.sops.yaml]\n"
            "configMapGenerator:\n  - name: env\n    envs: [app.sops.env]\n",
        "tokens/kustomization.yaml": "secretGenerator:\n  - name: t\n    envs: [t.sops.env]\n",
    }.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    for rel, text in (("settings/settings.sops.yaml", "apiVersion: v1\nkind: ConfigMap\n"
                       "metadata: {name: s}\ndata: {password: not-real}\n"),
                      ("settings/app.sops.env", "TOKEN=not-a-real-token\n"),
                      ("tokens/t.sops.env", "TOKEN=not-a-real-token\n")):
        _encrypt(repo, rel, [key.recipient], text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "layout")
    assert _found(_check(repo)[1]) == {
        ("flux-sops-not-secret", "dev", "settings/settings.sops.yaml"),
        ("flux-sops-not-secret", "dev", "settings/app.sops.env"),
        ("flux-decryption-missing", "dev", "clusters/dev/tokens.yaml"),
    }


def test_a_cluster_decrypting_through_kms_has_its_key(tmp_path: Path) -> None:
    """A registry cluster whose key is a cloud KMS key: a file encrypted to that KMS key
    (and an admin age key) is decryptable by kustomize-controller through its AWS
    credentials, no flux-key-missing (critical, on every file, before)."""
    admin = age_key()
    repo = git_repo(tmp_path / "r")
    for rel, text in {
        "clusters/dev/flux-system/gotk-sync.yaml": SYNC.format(ref="branch: main",
                                                               cluster="dev"),
        "clusters/dev/apps.yaml": ks("apps", "./apps"),
        "apps/kustomization.yaml": "resources: [db.sops.yaml, other.sops.yaml]\n",
    }.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    for name in ("db", "other"):
        _encrypt(repo, f"apps/{name}.sops.yaml", [admin.recipient],
                 SECRET.format(name=name, entry="password"))
    _add_kms_stanza(repo / "apps/db.sops.yaml")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "kms")
    (repo.parent / "registry.yaml").write_text(
        "version: 1\nclusters:\n  dev: {}\nkeys:\n"
        f"  aws-dev:\n    type: kms\n    recipient: {KMS_ARN}\n    clusters: [dev]\n"
        f"  admin:\n    type: age\n    recipient: {admin.recipient}\n    clusters: ['*']\n"
        'rules:\n  - path: "**"\n    clusters: [dev]\n')
    code, report = _check(repo, "--registry", str(repo.parent / "registry.yaml"))
    assert code == 1
    assert _found(report) == {("flux-key-missing", "dev", "apps/other.sops.yaml")}
    assert report["clusters"][0]["decryption_keys"] == ["aws-dev"]  # type: ignore


def test_no_key_is_needed_for_what_flux_does_not_decrypt(tmp_path: Path) -> None:
    """A sops ConfigMap applied with decryption, encrypted to the admin only: Flux applies
    it encrypted (flux-sops-not-secret), no cluster key could change that (no
    flux-key-missing); the Secret beside it does need the cluster's key."""
    admin, dev = age_key(), age_key()
    repo = git_repo(tmp_path / "r")
    for rel, text in {
        "clusters/dev/flux-system/gotk-sync.yaml": SYNC.format(ref="branch: main",
                                                               cluster="dev"),
        "clusters/dev/apps.yaml": ks("apps", "./apps"),
        "apps/kustomization.yaml": "resources: [settings.sops.yaml, db.sops.yaml]\n",
    }.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    _encrypt(repo, "apps/settings.sops.yaml", [admin.recipient], "apiVersion: v1\n"
             "kind: ConfigMap\nmetadata: {name: s}\ndata: {password: not-real}\n")
    _encrypt(repo, "apps/db.sops.yaml", [admin.recipient], SECRET.format(name="db",
                                                                        entry="password"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "layout")
    (repo.parent / "registry.yaml").write_text(
        "version: 1\nclusters:\n  dev: {}\nkeys:\n"
        f"  flux-dev:\n    type: age\n    recipient: {dev.recipient}\n    clusters: [dev]\n"
        f"  admin:\n    type: age\n    recipient: {admin.recipient}\n    clusters: ['*']\n"
        'rules:\n  - path: "**"\n    clusters: [dev]\n')
    _, report = _check(repo, "--registry", str(repo.parent / "registry.yaml"))
    assert _found(report) == {("flux-sops-not-secret", "dev", "apps/settings.sops.yaml"),
                              ("flux-key-missing", "dev", "apps/db.sops.yaml")}


def test_a_pgp_key_named_by_its_long_id_is_no_outlier(tmp_path: Path, gpg_home: GpgHome) -> None:
    """sops stores a PGP recipient as typed: one file naming the cluster's PGP key by its
    16-hex long key id and the others by the full fingerprint all hold the same key."""
    fp = gpg_home.fp  # type: ignore[attr-defined]
    repo = git_repo(tmp_path / "r")
    for rel, text in {
        "clusters/dev/flux-system/gotk-sync.yaml": SYNC.format(ref="branch: main",
                                                               cluster="dev"),
        "clusters/dev/flux-system/kustomization.yaml": "resources: [gotk-sync.yaml]\n",
        "clusters/dev/apps.yaml": ks("apps", "./apps"),
    }.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    (repo / "apps").mkdir()
    for name, spelled in (("a", fp), ("b", fp), ("c", fp[-16:])):
        path = repo / "apps" / f"{name}.sops.yaml"
        path.write_text(SECRET.format(name=name, entry="password"))
        done = run_sops("encrypt", "--pgp", spelled, "--encrypted-regex",
                        "^(data|stringData)$", str(path),
                        env={"GNUPGHOME": str(gpg_home.path)})
        assert done.returncode == 0, done.stderr
        path.write_bytes(done.stdout)
    assert f"fp: {fp[-16:]}" in (repo / "apps/c.sops.yaml").read_text()
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "pgp")
    code, report = _check(repo)
    assert [f["rule"] for f in report["findings"]] == [], report["findings"]  # type: ignore
    assert code == 0


def test_names_from_the_repository_cannot_forge_report_lines(tmp_path: Path) -> None:
    """A Kustomization named with a line break (YAML allows it) is shown escaped in the
    text report: it cannot add a summary line."""
    repo = git_repo(tmp_path / "forge")
    name = '"apps\\n0 delivery findings in 1 cluster(s), 0 Kustomization(s)"'
    for rel, text in {
        "clusters/dev/flux-system/gotk-sync.yaml": SYNC.format(ref="branch: main",
                                                               cluster="dev"),
        "clusters/dev/flux-system/kustomization.yaml": "resources: [gotk-sync.yaml]\n",
        "clusters/dev/apps.yaml": ks(name, "./apps"),
        "apps/kustomization.yaml": "resources: [app.yaml]\n",
        "apps/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    }.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "forge")
    text = run_cli("--repo", repo, "flux", "check").stdout
    lines = text.splitlines()
    assert [ln for ln in lines if ln[:1].isdigit()] == [lines[-1]]  # one summary line
    assert lines[-1].endswith("2 Kustomization(s)")
    assert "apps\\n0 delivery findings" in text
