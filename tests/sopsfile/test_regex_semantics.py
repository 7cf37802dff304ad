"""Regexes mean what they mean to sops (Go RE2): every verdict is taken from the real sops binary.

For each pattern, sops encrypts a file with it as `encrypted_regex` / `unencrypted_regex` /
`encrypted_comment_regex`; sopskit must then agree on which values sops encrypted, verify the
file key-less and (with the key) without a false MAC mismatch, and call a pattern invalid exactly
when sops ignored it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sopskit import regex as re2go
from sopskit.identity.model import Identities
from sopskit.sopsfile.cryptrule import Evaluator
from sopskit.sopsfile.document import parse
from sopskit.sopsfile.encvalue import looks_encrypted
from sopskit.sopsfile.model import CryptRule
from sopskit.sopsfile.verify import check_structure, verify_bytes
from tests.helpers import AgeKey, run_cli, run_sops

KEYS = ["password", "PASS_x", "secretN", "secret", "api_key", "name", "Upper", "lower",
        "data", "stringData", "Éclair", "ǅ", "kelvin", "x", "n\u212a"]
PLAIN = "".join(f"{k}: v{i}\n" for i, k in enumerate(KEYS))

# Patterns Python `re` reads differently from Go RE2 (or cannot read at all).
VALID = [
    "((?i)(pass|secret($|[^N])|key|token|^data$|^stringData))",
    "[[:upper:]]",
    r"\p{Lu}",
    r"\pL\z",
    r"(?<n>pass)",
    r"(?U)x+",
    r"(?i)K",  # folds to the Kelvin sign in RE2
    r"\QPASS_\E",
    r"[[:^lower:]_]",
    "(" * 999 + "pass" + ")" * 999,  # Go's deepest tree; (?:...) nesting adds no depth
    "(?:" * 1200 + "pass" + ")" * 1200,
]
# Patterns sops (Go regexp) rejects: it then ignores the rule and encrypts nothing.
INVALID = [r"\C", "(", r"\Z", "a{1001}", r"(?=pass)", r"(pass)\1", "x**",
           "(" * 1000 + "pass" + ")" * 1000]  # Go: "expression nests too deeply"; RE2 accepts


def _encrypt(tmp_path: Path, age: AgeKey, *flags: str, plain: str = PLAIN) -> bytes:
    source = tmp_path / "in.yaml"
    source.write_text(plain, encoding="utf-8")
    keys = () if (tmp_path / ".sops.yaml").exists() else ("--age", age.recipient)
    done = run_sops("encrypt", *keys, *flags, source.name, env={}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def _ids(age: AgeKey) -> Identities:
    from sopskit.identity.model import AgeIdentity

    return Identities(age=(AgeIdentity(age.secret, age.recipient, "test"),))


def _encrypted_keys(data: bytes) -> set[str]:
    doc = parse(data, path="in.yaml", fmt="yaml")
    return {leaf.key_path.rsplit(".", 1)[-1] for leaf in doc.leaves()
            if isinstance(leaf.value, str) and looks_encrypted(leaf.value)}


@pytest.mark.parametrize("kind", ["encrypted_regex", "unencrypted_regex"])
@pytest.mark.parametrize("pattern", VALID)
def test_valid_pattern_agrees_with_sops(pattern: str, kind: str, tmp_path: Path,
                                        age: AgeKey) -> None:
    data = _encrypt(tmp_path, age, "--" + kind.replace("_", "-"), pattern)
    evaluator = Evaluator(CryptRule(kind, pattern))
    mine = {k for k in KEYS if evaluator.by_path((k,))}
    assert _encrypted_keys(data) == mine
    # a rule that matches every key as unencrypted leaves nothing encrypted: reported as such
    expected = [] if mine else ["no-encrypted-values"]
    doc = parse(data, path="in.yaml", fmt="yaml")
    assert [p.check for p in check_structure(doc)] == expected
    report = verify_bytes(data, path="in.yaml", fmt="yaml", identities=_ids(age))
    assert report.mac_checked and [p.check for p in report.problems] == expected


@pytest.mark.parametrize("pattern", INVALID)
def test_pattern_sops_rejects_is_a_metadata_problem(pattern: str, tmp_path: Path,
                                                    age: AgeKey) -> None:
    assert not re2go.is_valid(pattern)
    data = _encrypt(tmp_path, age, "--encrypted-regex", pattern)
    assert _encrypted_keys(data) == set()  # sops ignored the pattern: nothing encrypted
    problems = check_structure(parse(data, path="in.yaml", fmt="yaml"))
    assert any(p.key_path == "sops.encrypted_regex" and "not a valid RE2" in p.message
               for p in problems), problems


def test_comment_regex_with_posix_class(tmp_path: Path, age: AgeKey) -> None:
    plain = "# SECRET below\ntoken: a\n# public\nname: b\n"
    (tmp_path / ".sops.yaml").write_text(  # sops has no flag for the comment rules
        f"creation_rules:\n  - encrypted_comment_regex: '[[:upper:]]{{6}}'\n"
        f"    age: {age.recipient}\n", encoding="utf-8")
    data = _encrypt(tmp_path, age, plain=plain)
    assert _encrypted_keys(data) == {"token"}
    report = verify_bytes(data, path="in.yaml", fmt="yaml", identities=_ids(age))
    assert report.ok and report.mac_checked, report.problems


def test_sopskit_round_trip_with_go_only_regex(tmp_path: Path, age: AgeKey) -> None:
    """decrypt, then encrypt again with the file's rule, through the CLI (no false refusal)."""
    pattern = "((?i)(pass|secret($|[^N])|key|token|^data$|^stringData))"
    target = tmp_path / "s.yaml"
    target.write_bytes(_encrypt(tmp_path, age, "--encrypted-regex", pattern))
    env_keys = {"SOPS_AGE_KEY": age.secret}
    from tests.helpers import clean_env

    env = clean_env(env_keys)
    assert run_cli("verify", target, env=env).code == 0
    done = run_cli("decrypt", target, env=env)
    assert done.code == 0, done.stderr
    assert "password: v0" in done.stdout


def test_pathological_regex_cannot_stall_verify(tmp_path: Path, age: AgeKey) -> None:
    """`^(a+)+$` backtracks exponentially in Python `re` on a near-miss key; RE2 is linear.
    Python `re` would need hours here, so the subprocess timeout is what fails without RE2."""
    key = "a" * 40 + "!"
    data = _encrypt(tmp_path, age, "--unencrypted-regex", "^(a+)+$",
                    plain=f"{key}: secret\nother: x\n")
    target = tmp_path / "s.sops.yaml"
    target.write_bytes(data)
    done = run_cli("verify", target, timeout=120)
    assert done.code == 0, done.stderr
    audited = run_cli("audit", "--format", "json", tmp_path, cwd=tmp_path, timeout=120)
    assert audited.code in (0, 1) and '"findings"' in audited.stdout, audited.stderr


@pytest.mark.parametrize(("pattern", "path"), [
    ("[[:upper:]]", "dir/Secret.yaml"), ("[[:upper:]]", "dir/secret.yaml"),
    (r"(?i)^DIR/.*\.YAML$", "dir/x.yaml"), (r"\p{Lu}", "é/É.yaml"), (r"\.yaml$", "a.yaml"),
    ("((?i)(prod|^stage))", "Stage/x.yaml"),
])
def test_path_regex_chooses_the_rule_sops_chooses(pattern: str, path: str, tmp_path: Path,
                                                  age: AgeKey) -> None:
    from sopskit.sops.config import rule_for
    from tests.helpers import age_key

    other = age_key()
    quoted = "'" + pattern.replace("'", "''") + "'"
    config = tmp_path / ".sops.yaml"
    config.write_text(f"creation_rules:\n  - path_regex: {quoted}\n    age: {age.recipient}\n"
                      f"  - age: {other.recipient}\n", encoding="utf-8")
    target = tmp_path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("k: v\n", encoding="utf-8")
    done = run_sops("encrypt", target.relative_to(tmp_path), env={}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    sops_first = age.recipient in done.stdout.decode()
    rule = rule_for(config, target)
    assert (age.recipient in {r.id for r in rule.recipients}) is sops_first


def test_invalid_path_regex_is_an_error_as_in_sops(tmp_path: Path, age: AgeKey) -> None:
    from sopskit.errors import ConfigError
    from sopskit.sops.config import rule_for

    config = tmp_path / ".sops.yaml"
    config.write_text(f"creation_rules:\n  - path_regex: '\\C'\n    age: {age.recipient}\n",
                      encoding="utf-8")
    target = tmp_path / "a.yaml"
    target.write_text("k: v\n", encoding="utf-8")
    done = run_sops("encrypt", target.name, env={}, cwd=tmp_path)
    assert done.returncode != 0
    with pytest.raises(ConfigError, match="invalid path_regex"):
        rule_for(config, target)


def test_regex_module_reports_without_logging(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(re2go.InvalidRegex, match="missing \\)"):
        re2go.compile("(")
    assert capfd.readouterr().err == ""  # RE2's own logger stays quiet
    assert re2go.compile("^a$").search("a") and not re2go.compile("^a$").search("a\n")
    assert re2go.compile("x").search("\ud800x")  # lone surrogate: matched as U+FFFD


def test_encrypt_and_rekey_with_a_go_only_regex(tmp_path: Path, age: AgeKey) -> None:
    """`.sops.yaml` with the widely used case-insensitive regex: encrypt follows it exactly
    as sops does, and a rekey plan sees nothing to change (it used to refuse or misplan)."""
    import subprocess

    from sopskit.engine.rekey.desired import load_desired
    from sopskit.engine.rekey.plan import make_plan
    from tests.helpers import clean_env

    pattern = "((?i)(pass|secret($|[^N])|key|token|^data$|^stringData))"
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".sops.yaml").write_text(
        f"creation_rules:\n  - encrypted_regex: '{pattern}'\n    age: {age.recipient}\n",
        encoding="utf-8")
    target = tmp_path / "app.yaml"
    target.write_text("Password: p1\nsecretN: plain\napi_token: t1\nname: n\n", encoding="utf-8")
    done = run_cli("encrypt", "-i", target, env=clean_env({"SOPS_AGE_KEY": age.secret}),
                   cwd=tmp_path)
    assert done.code == 0, done.stderr
    assert _encrypted_keys(target.read_bytes()) == {"Password", "api_token"}
    plan = make_plan(tmp_path, [], load_desired(tmp_path))
    assert [(f.path, f.action) for f in plan.files] == [("app.yaml", "nothing")]


# Syntax corners where RE2's C++ parser (google-re2) and Go's regexp/syntax could differ.
CORNERS = [
    "a{2}{3}", "a**", "a*+", "a?*", "a+?", r"[a-\d]", r"\8", "[[:foo:]]", r"\pX", r"\p{Foo}",
    "(?i)(?-i)x", "(?s:.)", "(?P<n>x)(?P<n>y)", "(?<n>x)(?<n>y)", r"\Qabc", "x{1000}",
    "x{1001}", r"[\x{110000}]", r"\x{10FFFF}", "(?z)", "[z-a]", "()", "(|)", r"\b\B", r"\A\z",
    r"(?i:\C)", r"\_", r"\#", r"\<", r"\y", "(?P>n)", "(?'n'x)", "x{2,1}", "[]a]", "[^]a]",
]


def test_validity_agrees_with_sops_on_syntax_corners(tmp_path: Path, age: AgeKey) -> None:
    """sops fails on a `.sops.yaml` path_regex Go cannot compile ("can not compile regexp"):
    a direct oracle for what Go's regexp accepts."""
    (tmp_path / "f.yaml").write_text("k: v\n", encoding="utf-8")
    disagree = []
    for pattern in CORNERS:
        quoted = "'" + pattern.replace("'", "''") + "'"
        (tmp_path / ".sops.yaml").write_text(
            f"creation_rules:\n  - path_regex: {quoted}\n    age: {age.recipient}\n",
            encoding="utf-8")
        done = run_sops("encrypt", "f.yaml", env={}, cwd=tmp_path)
        go_valid = done.returncode == 0 or b"no matching creation rules" in done.stderr
        if go_valid != re2go.is_valid(pattern):
            disagree.append((pattern, done.stderr.decode()[-200:]))
    assert disagree == []
