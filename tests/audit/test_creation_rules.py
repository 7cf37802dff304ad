"""Repositories with a `.sops.yaml` and no registry: every sops file is checked against the
creation rule sops itself picks. Files are made by the real sops from that same config
(so a clean file proves the audit picks the rule sops picked), then changed the way people
change them: another key, another crypt rule, key groups, a path no rule covers."""

from __future__ import annotations

import json
from pathlib import Path

import pyrage

from tests.audit.repos import commit, new_repo, sops_encrypt, write
from tests.helpers import AgeKey, age_key, git, run_cli, run_sops

SECRET = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  password: hunter2x\n"


def _config(admin: AgeKey, flux: AgeKey, *, extra: str = "") -> str:
    return ("creation_rules:\n"
            "  - path_regex: ^clusters/production/.*\\.sops\\.yaml$\n"
            "    encrypted_regex: ^(data|stringData)$\n"
            f"    age: {admin.recipient},{flux.recipient}\n"
            f"{extra}"
            "  - path_regex: \\.sops\\.yaml$\n"
            f"    age: {admin.recipient}\n")


def _encrypt(config_dir: Path, rel: str, text: str, *args: str) -> Path:
    """`sops -e` run in the config's directory: sops picks the creation rule itself."""
    path = write(config_dir, rel, text)
    done = run_sops("--config", str(config_dir / ".sops.yaml"), "-e", *args, rel,
                    env={}, cwd=config_dir)
    assert done.returncode == 0, done.stderr.decode()
    path.write_bytes(done.stdout)
    return path


def _findings(repo: Path) -> list[tuple[str, str, str]]:
    res = run_cli("--repo", repo, "audit", "--format", "json", "--no-keyring",
                  "--max-data-key-age", "100000")
    doc = json.loads(res.stdout)
    # exit 1 exactly when a finding reaches the default --fail-on high (the verdict CI reads)
    assert res.code == int(any(f["severity"] in ("critical", "high") for f in doc["findings"])), \
        (res.code, res.stderr)
    return sorted((f["path"], f["rule"], f["message"]) for f in doc["findings"])


def _rules(found: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    return [(p, r) for p, r, _ in found]


def test_files_sops_made_from_the_config_are_clean(tmp_path: Path) -> None:
    admin, flux = age_key(), age_key()
    repo = new_repo(tmp_path / "r")
    write(repo, ".sops.yaml", _config(admin, flux))
    _encrypt(repo, "clusters/production/db.sops.yaml", SECRET)
    _encrypt(repo, "apps/other.sops.yaml", "token: abc\n")
    commit(repo)
    assert _findings(repo) == []


def test_missing_and_extra_recipients(tmp_path: Path) -> None:
    admin, flux, stranger = age_key(), age_key(), age_key()
    repo = new_repo(tmp_path / "r")
    write(repo, ".sops.yaml", _config(admin, flux))
    # encrypted by hand to the admin and a stranger, not to the cluster's Flux key
    _encrypt(repo, "clusters/production/db.sops.yaml", SECRET, "--age",
             f"{admin.recipient},{stranger.recipient}", "--encrypted-regex",
             "^(data|stringData)$")
    commit(repo)
    found = _findings(repo)
    assert _rules(found) == [("clusters/production/db.sops.yaml", "recipient-missing"),
                             ("clusters/production/db.sops.yaml", "recipient-unauthorised")]
    assert f"age:{flux.recipient} is required by .sops.yaml creation_rules[0]" in found[0][2]
    assert f"age:{stranger.recipient} is not a recipient of .sops.yaml creation_rules[0]" \
        in found[1][2]


def test_first_matching_rule_wins_like_sops(tmp_path: Path) -> None:
    """The production file also matches the catch-all `\\.sops\\.yaml$` (admin only): sops
    takes the first rule, so the audit wants the Flux key too."""
    admin, flux = age_key(), age_key()
    repo = new_repo(tmp_path / "r")
    write(repo, ".sops.yaml", _config(admin, flux))
    _encrypt(repo, "clusters/production/db.sops.yaml", SECRET, "--age", admin.recipient,
             "--encrypted-regex", "^(data|stringData)$")
    commit(repo)
    assert _rules(_findings(repo)) == [("clusters/production/db.sops.yaml",
                                        "recipient-missing")]


def test_no_rule_and_the_flux_decryption_secret(tmp_path: Path) -> None:
    admin, flux = age_key(), age_key()
    repo = new_repo(tmp_path / "r")
    write(repo, ".sops.yaml", _config(admin, flux))
    _encrypt(repo, "apps/x.sops.yaml", "token: abc\n")
    (repo / "apps/x.sops.yaml").rename(repo / "apps/values.enc.yaml")  # no rule covers it
    flux_secret = ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: sops-age\n"
                   f"  namespace: flux-system\nstringData:\n  flux.agekey: {flux.secret}\n")
    _encrypt(repo, "apps/y.sops.yaml", flux_secret, "--encrypted-regex", "^(data|stringData)$")
    (repo / "clusters").mkdir()
    (repo / "apps/y.sops.yaml").rename(repo / "clusters/sops-age.yaml")
    commit(repo)
    found = _findings(repo)
    assert _rules(found) == [("apps/values.enc.yaml", "no-rule")]
    assert found[0][2] == ("a sops file matches no registry or .sops.yaml creation rule: none of"
                           " .sops.yaml's path_regex matches it, so sops cannot update or"
                           " rotate it ('no matching creation rules found'); add a creation"
                           " rule for it or move the file")


def test_crypt_rule_and_mac_only_encrypted_drift(tmp_path: Path) -> None:
    admin, flux = age_key(), age_key()
    repo = new_repo(tmp_path / "r")
    # made before the rule had encrypted_regex / with mac_only_encrypted set by hand
    write(repo, ".sops.yaml", _config(admin, flux).replace(
        "    encrypted_regex: ^(data|stringData)$\n", ""))
    _encrypt(repo, "clusters/production/db.sops.yaml", SECRET)
    _encrypt(repo, "apps/other.sops.yaml", "token: abc\n", "--mac-only-encrypted")
    write(repo, ".sops.yaml", _config(admin, flux))
    commit(repo)
    found = _findings(repo)
    assert _rules(found) == [("apps/other.sops.yaml", "mac-only-encrypted-drift"),
                             ("clusters/production/db.sops.yaml", "crypt-rule-drift")]
    assert "wants encrypted_regex: '^(data|stringData)$'" in found[1][2]


def test_key_groups_and_threshold(tmp_path: Path) -> None:
    a, b = age_key(), age_key()
    repo = new_repo(tmp_path / "r")
    write(repo, ".sops.yaml", "creation_rules:\n  - path_regex: ^vault/\n"
          "    shamir_threshold: 2\n    key_groups:\n"
          f"      - age: [{a.recipient}]\n      - age: [{b.recipient}]\n")
    _encrypt(repo, "vault/good.yaml", "root: x\n")
    _encrypt(repo, "vault/flat.yaml", "root: x\n", "--age", f"{a.recipient},{b.recipient}")
    commit(repo)
    found = _findings(repo)
    assert _rules(found) == [("vault/flat.yaml", "key-groups-drift")]
    assert "1 key group(s), the rule wants 2; threshold 1, the rule wants 2" in found[0][2]


def test_nearest_config_and_paths_relative_to_it(tmp_path: Path) -> None:
    """A `.sops.yaml` in a subdirectory governs the files below it, matched by their path
    relative to that directory (where sops finds it when run from there)."""
    admin, flux = age_key(), age_key()
    repo = new_repo(tmp_path / "r")
    sub = repo / "kubernetes"
    write(sub, ".sops.yaml", _config(admin, flux))
    _encrypt(sub, "clusters/production/db.sops.yaml", SECRET)
    other = pyrage.x25519.Identity.generate().to_public()
    _encrypt(sub, "apps/a.sops.yaml", "token: abc\n", "--age", str(other))
    write(repo, "outside/b.sops.yaml", (sub / "apps/a.sops.yaml").read_text())
    commit(repo)
    found = _rules(_findings(repo))
    assert ("kubernetes/apps/a.sops.yaml", "recipient-missing") in found
    assert ("kubernetes/apps/a.sops.yaml", "recipient-unauthorised") in found
    assert ("outside/b.sops.yaml", "no-rule") in found
    assert not [f for f in found if f[0].startswith("kubernetes/clusters/")]


def test_an_unusable_config_is_one_finding(tmp_path: Path) -> None:
    admin, flux = age_key(), age_key()
    repo = new_repo(tmp_path / "r")
    write(repo, ".sops.yaml", _config(admin, flux))
    _encrypt(repo, "apps/a.sops.yaml", "token: abc\n")
    _encrypt(repo, "apps/b.sops.yaml", "token: abc\n")
    write(repo, ".sops.yaml", "creation_rules:\n  - path_regex: '(unclosed'\n"
          f"    age: {admin.recipient}\n")
    commit(repo)
    found = _findings(repo)
    assert _rules(found) == [(".sops.yaml", "sops-config-invalid")]
    assert "creation rule 0: invalid path_regex" in found[0][2]


def test_rekey_and_audit_read_the_same_nested_config(tmp_path: Path) -> None:
    """One model: the rule the audit compares with is the rule rekey re-keys to."""
    admin, flux = age_key(), age_key()
    repo = new_repo(tmp_path / "r")
    write(repo, ".sops.yaml", f"creation_rules:\n  - age: {admin.recipient}\n")
    sub = repo / "kubernetes"
    write(sub, ".sops.yaml", _config(admin, flux))
    _encrypt(repo, "kubernetes/clusters/production/db.sops.yaml", SECRET, "--encrypted-regex",
             "^(data|stringData)$")  # the root rule: admin only
    _encrypt(sub, "clusters/production/ok.sops.yaml", SECRET)
    commit(repo)
    assert _rules(_findings(repo)) == [("kubernetes/clusters/production/db.sops.yaml",
                                        "recipient-missing")]
    plan = json.loads(run_cli("--repo", repo, "rekey", "--format", "json", "--no-keyring",
                              "--max-data-key-age", "100000").stdout)
    actions = {f["path"]: f["action"] for f in plan["files"]}
    assert actions["kubernetes/clusters/production/ok.sops.yaml"] == "nothing"
    assert actions["kubernetes/clusters/production/db.sops.yaml"] == "updatekeys"


def test_a_rule_with_an_empty_key_group_is_one_sops_cannot_use(tmp_path: Path) -> None:
    """sops refuses a rule with an empty key group ("empty key group provided"), so a file
    under it has no usable rule: no-rule, not a key-groups drift against that group."""
    admin, flux = age_key(), age_key()
    repo = new_repo(tmp_path / "r")
    write(repo, ".sops.yaml", _config(admin, flux))
    _encrypt(repo, "apps/a.sops.yaml", "token: abc\n")
    write(repo, ".sops.yaml", "creation_rules:\n  - key_groups:\n"
          f"      - age: [{admin.recipient}]\n      - {{}}\n")
    write(repo, "apps/b.yaml", "token: abc\n")
    refused = run_sops("-e", "apps/b.yaml", env={}, cwd=repo)
    assert refused.returncode != 0 and b"empty key group" in refused.stderr
    (repo / "apps/b.yaml").unlink()
    commit(repo)
    found = _findings(repo)
    assert _rules(found) == [("apps/a.sops.yaml", "no-rule")]
    assert "empty key group" in found[0][2]


def test_rules_real_sops_refuses_are_not_compared_with(tmp_path: Path) -> None:
    """A Shamir threshold above the number of key groups (sops cannot split the data key)
    makes the rule unusable; an `age` string inside key_groups makes the whole config
    unreadable to sops."""
    admin, flux = age_key(), age_key()
    repo = new_repo(tmp_path / "r")
    write(repo, ".sops.yaml", _config(admin, flux))
    _encrypt(repo, "apps/a.sops.yaml", "token: abc\n")
    write(repo, ".sops.yaml", "creation_rules:\n  - shamir_threshold: 3\n    key_groups:\n"
          f"      - age: [{admin.recipient}]\n      - age: [{flux.recipient}]\n")
    write(repo, "apps/b.yaml", "token: abc\n")
    refused = run_sops("-e", "apps/b.yaml", env={}, cwd=repo)
    assert refused.returncode != 0 and b"Shamir" in refused.stderr
    (repo / "apps/b.yaml").unlink()
    commit(repo)
    found = _findings(repo)
    assert _rules(found) == [("apps/a.sops.yaml", "no-rule")]
    assert "shamir_threshold 3" in found[0][2]

    write(repo, ".sops.yaml", f"creation_rules:\n  - key_groups:\n      - age: {admin.recipient}\n")
    write(repo, "apps/b.yaml", "token: abc\n")
    refused = run_sops("-e", "apps/b.yaml", env={}, cwd=repo)
    assert refused.returncode != 0 and b"cannot unmarshal" in refused.stderr
    (repo / "apps/b.yaml").unlink()
    commit(repo)
    found = _findings(repo)
    assert _rules(found) == [(".sops.yaml", "sops-config-invalid")]
    assert "key_groups[0].age must be a list" in found[0][2]


def test_an_unusable_config_no_file_uses_is_reported(tmp_path: Path) -> None:
    """A `.sops.yaml` that sops cannot read is a finding even when no sops file is under
    it yet (the next `sops -e` there fails), and in a repository with no sops file at all;
    in a PATH-narrowed audit only when it is in scope."""
    admin, flux = age_key(), age_key()
    repo = new_repo(tmp_path / "r")
    write(repo, "apps/.sops.yaml", "creation_rules:\n  - path_regex: '(unclosed'\n"
          f"    age: {admin.recipient}\n")
    write(repo, "apps/new.yaml", "token: abc\n")
    refused = run_sops("-e", "new.yaml", env={}, cwd=repo / "apps")
    assert refused.returncode != 0  # sops agrees: the config is unusable
    (repo / "apps/new.yaml").unlink()
    commit(repo)
    assert _rules(_findings(repo)) == [("apps/.sops.yaml", "sops-config-invalid")]
    write(repo, ".sops.yaml", _config(admin, flux))
    _encrypt(repo, "clusters/production/db.sops.yaml", SECRET)
    commit(repo)
    assert _rules(_findings(repo)) == [("apps/.sops.yaml", "sops-config-invalid")]
    narrowed = run_cli("--repo", repo, "audit", "--format", "json", "--no-keyring",
                       str(repo / "clusters"))
    assert narrowed.code == 0, narrowed.stderr
    assert json.loads(narrowed.stdout)["findings"] == []
    # a sops file no .sops.yaml applies to does not hide the unusable one elsewhere
    (repo / ".sops.yaml").unlink()
    git(repo, "rm", "-rq", "--cached", "clusters")
    (repo / "clusters/production/db.sops.yaml").unlink()
    sops_encrypt(repo, "other/x.sops.yaml", SECRET, age=[admin.recipient])
    commit(repo)
    assert _rules(_findings(repo)) == [("apps/.sops.yaml", "sops-config-invalid")]
