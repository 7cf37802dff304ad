"""Key expiry from the registry dates and from a PGP key's own expiry (real gpg), parallel
scans giving the same result as one process, and the coloured text report."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sopskit.audit.finding import Finding, Severity
from sopskit.audit.report import text
from sopskit.audit.result import AuditResult
from sopskit.audit.run import AuditOptions, collect
from tests.audit import fakes
from tests.audit.repos import commit, new_repo, write
from tests.helpers import GpgHome, age_key, run_cli


def _day(offset: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


def test_registry_and_pgp_expiry(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    home = GpgHome()
    try:
        home.gpg("--quick-gen-key", "bot <bot@example.invalid>", "future-default", "default",
                 _day(12))
        out = home.gpg("--with-colons", "--list-keys", "bot").stdout.decode()
        fp = next(ln.split(":")[9] for ln in out.splitlines() if ln.startswith("fpr:"))
        write(repo, "keys/pgp/bot.asc", home.export_public(fp).decode())
    finally:
        home.close()
    old, new = age_key(), age_key()
    write(repo, "keys/registry.yaml", f"""version: 1
clusters:
  sandbox: {{}}
keys:
  old-admin:
    type: age
    recipient: {old.recipient}
    clusters: ["*"]
    created: {_day(-400)}
    expires: {_day(-3)}
  admin:
    type: age
    recipient: {new.recipient}
    clusters: ["*"]
    expires: {_day(300)}
  bot:
    type: pgp
    fingerprint: {fp}
    public_key: pgp/bot.asc
    clusters: [sandbox]
rules:
  - path: "**"
    clusters: [sandbox]
""")
    commit(repo)
    res = run_cli("--repo", repo, "audit", "--format", "json")
    found = [(f["rule"], f["line"], f["message"].split(": ", 1)[1])
             for f in json.loads(res.stdout)["findings"] if f["category"] == "rotation"]
    assert found == [
        ("key-expired", 5, f"key old-admin expired on {_day(-3)} (registry)"),
        ("key-expiring", 16, f"key bot expires on {_day(12)}, in 12 days (PGP key)")]
    assert res.code == 1


def test_parallel_scan_equals_one_process(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    for i in range(60):
        body = f"T={fakes.github()}\n" if i % 7 == 0 else f"X{i}=plain\n"
        write(repo, f"d{i % 5}/f{i}.env", body)
    commit(repo)
    one = collect(AuditOptions(repo=repo, jobs=1))
    two = collect(AuditOptions(repo=repo, jobs=2))
    assert one.findings == two.findings and len(one.findings) == 9
    assert one.files_scanned == two.files_scanned == 60


def test_text_report_colours_only_when_asked() -> None:
    f = Finding("a.yaml", 3, "jwt", "plaintext", Severity.HIGH, "signed JSON Web Token", "0" * 32)
    result = AuditResult([f], files_scanned=1, files_skipped=0)
    plain, coloured = text.render(result), text.render(result, colour=True)
    assert "\x1b[" not in plain and "\x1b[1;31mhigh" in coloured
    assert plain.splitlines()[-1] == "1 finding (1 high) in 1 files scanned"
