"""Hand-made hostile files (issue 9, section 3) through the real CLI and the parsers: each
ends with one line and exit 1/2/3, in bounded time and memory, never exit 4."""

from __future__ import annotations

from pathlib import Path

import pytest

from sopskit import yamlio
from sopskit.errors import InputError
from sopskit.identity.model import Identities
from sopskit.sopsfile.document import parse
from sopskit.sopsfile.verify import verify_bytes
from tests.fuzz.harness import identities
from tests.fuzz.mutator import VECTORS
from tests.helpers import age_key, clean_env, run_cli, run_sops

YAML = (VECTORS / "seed.yaml").read_bytes()
JSON = (VECTORS / "seed.json").read_bytes()
BOMB = b"a0: &a0 [x,x,x,x,x,x,x,x,x]\n" + b"".join(
    b"a%d: &a%d [%s]\n" % (k, k, b",".join([b"*a%d" % (k - 1)] * 9)) for k in range(1, 10))

HOSTILE = {
    "bomb.yaml": BOMB + YAML,
    "bomb-in-metadata.yaml": YAML.replace(b"sops:\n", b"sops:\n    zz: *a9\n").replace(
        b"apiVersion", BOMB + b"apiVersion"),
    "self-alias.yaml": b"loop: &l [1, *l]\n" + YAML,
    "deep-flow.yaml": b"x: " + b"[" * 50000 + b"]" * 50000 + b"\n" + YAML,
    "deep.json": b'{"x":' + b"[" * 100000 + b"]" * 100000 + b"," + JSON[1:],
    "bigint.json": b'{"x": ' + b"1" * 5000 + b"," + JSON[1:],
    "bigint.yaml": b"x: " + b"1" * 5000 + b"\n" + YAML,
    "bigint-meta.json": JSON.replace(b'"version"', b'"x": ' + b"9" * 5000 + b', "version"'),
    "surrogate.yaml": b'x: "\\ud800"\n' + YAML,
    "surrogate-recipient.json": JSON.replace(b'"recipient": "', b'"recipient": "\\udc00'),
}


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("hostile")
    for name, data in HOSTILE.items():
        (where / name).write_bytes(data)
    return where


def _key_env() -> dict[str, str]:
    return clean_env({"SOPS_AGE_KEY_FILE": str(VECTORS / "test-key.txt")})


def _one_clean_line(stderr: str) -> None:
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr


def test_verify_and_audit_cli_on_every_hostile_file(hostile_dir: Path) -> None:
    files = sorted(hostile_dir.iterdir())
    verify = run_cli("verify", *files, env=_key_env(), cwd=hostile_dir, timeout=120)
    _one_clean_line(verify.stderr)
    assert verify.code == 1
    failed = {line.split()[1].split(":")[0] for line in verify.stdout.splitlines() if line.startswith("FAIL")}
    ok = {line.split()[1] for line in verify.stdout.splitlines() if line.startswith("ok")}
    # a lone surrogate in a recipient is not used by age decryption: sops reads the file too
    assert ok == {"surrogate-recipient.json"}, verify.stdout
    assert failed == set(HOSTILE) - ok, verify.stdout
    audit = run_cli("audit", *files, env=_key_env(), cwd=hostile_dir, timeout=120)
    _one_clean_line(audit.stderr)
    assert audit.code in (0, 1)
    # each file verify failed is a finding of the audit, under its own name; the one that
    # verifies is silent; all of them were scanned (none dropped as unreadable)
    assert audit.code == 1, audit.stdout
    named = {line for line in audit.stdout.splitlines() if line in HOSTILE}
    assert named == failed, audit.stdout
    assert f"in {len(HOSTILE)} files scanned" in audit.stdout, audit.stdout


@pytest.mark.parametrize("name", sorted(set(HOSTILE) - {"surrogate-recipient.json"}))
def test_decrypt_cli_is_one_line(hostile_dir: Path, name: str) -> None:
    done = run_cli("decrypt", name, env=_key_env(), cwd=hostile_dir, timeout=60)
    _one_clean_line(done.stderr)
    assert done.code in (1, 3) and done.stdout == ""
    assert done.stderr.startswith(f"sopskit: error: {name}") and done.stderr.count("\n") == 1


def test_alias_limit_names_the_line_and_spares_real_anchors() -> None:
    with pytest.raises(InputError, match="excessive aliasing") as err:
        yamlio.compose_all(BOMB.decode(), path="b.yaml")
    assert err.value.line == 1  # the first anchor aliased
    with pytest.raises(InputError, match="contains an alias of itself"):
        yamlio.load("a: &a [1, *a]\n", path="s.yaml")
    # 300 aliases of a 10-node anchor: well under go-yaml's ratio limit
    normal = "base: &b {" + ", ".join(f"k{i}: v" for i in range(9)) + "}\n" + "".join(
        f"u{i}: *b\n" for i in range(300))
    assert len(yamlio.load(normal, path="n.yaml")) == 301
    assert yamlio.allowed_alias_ratio(1000) == 0.99
    assert yamlio.allowed_alias_ratio(4_000_000) == pytest.approx(0.10)


def test_depth_limit_names_the_line() -> None:
    text = "a:\n  b: " + "[" * 600 + "]" * 600 + "\n"
    with pytest.raises(InputError, match=r"nested too deeply \(more than 500 levels\)") as err:
        yamlio.compose_all(text, path="d.yaml")
    assert err.value.line == 2
    assert yamlio.compose_all("a: " + "[" * 90 + "]" * 90, path="ok.yaml")


def test_integer_past_the_int_string_limit_is_a_string_like_yaml_v3() -> None:
    from sopskit.sopsfile.yamlscalar import resolve_plain

    assert resolve_plain("1" * 5000) == "1" * 5000
    assert resolve_plain("0x" + "0" * 5000 + "1") == 1
    assert resolve_plain("-" + "9" * 19) == -1e19  # out of int64: ParseFloat, as yaml.v3
    with pytest.raises(InputError, match="number out of range"):
        parse(b'{"x": ' + b"1" * 5000 + b"}", path="n.json", fmt="json")


def test_lone_surrogate_in_json_key_hashes_as_sops_does(tmp_path: Path) -> None:
    """Go's encoding/json reads an unpaired \\ud800 as U+FFFD; the MAC sops writes covers
    that, so the native MAC check must agree with sops (it could not encode the key)."""
    key = age_key()
    target = tmp_path / "s.json"
    target.write_bytes(b'{"\\ud800k": "v", "x": "\\udc00"}')
    done = run_sops("--encrypt", "--age", key.recipient, "-i", target.name,
                    env={"SOPS_AGE_KEY": key.secret}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    from sopskit.identity.model import AgeIdentity

    ids = Identities(age=(AgeIdentity(key.secret, key.recipient, "test"),))
    written = target.read_bytes()
    assert "\ufffdk".encode() in written  # sops stored what Go decoded: U+FFFD
    # The same file with the escape written back: Go reads it the same, the MAC must agree.
    escaped = written.replace("\ufffdk".encode(), b"\\ud800k")
    assert escaped != written
    for data in (written, escaped):
        report = verify_bytes(data, path="s.json", fmt="json", identities=ids)
        assert report.ok and report.mac_checked, report.problems
    decrypted = run_sops("--decrypt", "--input-type", "json", "--output-type", "json",
                         "/dev/stdin", input=escaped,
                         env={"SOPS_AGE_KEY": key.secret}, cwd=tmp_path)
    assert decrypted.returncode == 0, decrypted.stderr


def test_yaml_surrogate_escape_is_rejected_like_yaml_v3() -> None:
    with pytest.raises(InputError, match="invalid Unicode character escape") as err:
        parse(b'x: "\\ud800"\n' + YAML, path="s.yaml", fmt="yaml")
    assert err.value.line == 1
    ids = identities()
    assert verify_bytes(YAML, path="s.yaml", fmt="yaml", identities=ids).ok


ENV = (VECTORS / "seed.env").read_bytes()
INI = (VECTORS / "seed.ini").read_bytes()
SHAPES = {
    "wrong-shape.env": ("dotenv", ENV + b"sops_age__list_0__list_5__list_0=\n"),
    "wrong-shape-only.env": ("dotenv", ENV.replace(b"sops_age__list_0__map_recipient",
                                                   b"sops_age__list_0__list_5__list_0")),
    "huge-index.env": ("dotenv", ENV + b"sops_age__list_" + b"9" * 5000 + b"=x\n"),
    "wrong-shape.ini": ("ini", INI.replace(b"[sops]\n", b"[sops]\nage__list_0__list_5=\n")),
    # an empty value first, then keys below it (found by `make fuzz`, seed 7, case 52328)
    "value-then-list.env": ("dotenv", ENV.replace(b"sops_age__list_0__map_enc=",
                                                  b"sops_age=\nsops_age__list_0__map_enc=")),
    "value-then-map.env": ("dotenv", ENV.replace(b"sops_age__list_0__map_enc=",
                                                 b"sops_age__list_0=\nsops_age__list_0__map_enc=")),
    "value-then-list.ini": ("ini", INI.replace(b"[sops]\n", b"[sops]\nage =\n")),
    "metadata-scalar.yaml": ("yaml", YAML.replace(b"metadata:\n    name: app\n",
                                                  b"metadata: app\n")),
    "metadata-list.yaml": ("yaml", YAML.replace(b"metadata:\n    name: app\n",
                                                b"metadata:\n    - app\n")),
    "bom.yaml": ("yaml", b"\xef\xbb\xbf" + YAML),
    "bom.json": ("json", b"\xef\xbb\xbf" + JSON),
    "crlf.yaml": ("yaml", YAML.replace(b"\n", b"\r\n")),
    "crlf.env": ("dotenv", ENV.replace(b"\n", b"\r\n")),
    "nul.json": ("json", JSON.replace(b'"data"', b'"da\x00ta"')),
    "invalid-utf8.yaml": ("yaml", b"x: \xff\xfe\n" + YAML),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_wrong_shapes_and_encodings_never_escape(name: str) -> None:
    """Each through verify (with the key), decrypt and the audit scan: a report or one
    SopskitError line, never another exception."""
    from tests.fuzz.harness import run_case

    fmt, data = SHAPES[name]
    assert data not in (YAML, JSON, ENV, INI)  # the replacement took place
    run_case(data, fmt, identities())
    report = verify_bytes(data, path=name, fmt=fmt, identities=identities())  # type: ignore[arg-type]
    assert all("\n" not in p.message for p in report.problems)


def test_rekey_recipients_and_runbook_on_hostile_files(tmp_path: Path) -> None:
    """The commands that plan over a repository's sops files (rekey) or name them
    (recipients, runbook) meet the same files: one line per file, never exit 4."""
    from tests.rekey.world import make_world

    world = make_world(tmp_path)
    world.populate(1)
    where = world.root / "clusters" / "sandbox" / "hostile"
    where.mkdir(parents=True)
    for name, data in HOSTILE.items():
        (where / name).write_bytes(data)
    world.commit()
    rekey = run_cli("--repo", world.root, "rekey", env=world.env(), timeout=120)
    _one_clean_line(rekey.stderr)
    assert rekey.code == 1
    named = {line.split()[0].rsplit("/", 1)[-1] for line in rekey.stdout.splitlines()
             if "hostile/" in line and " error " in line}
    # a 5,000-digit plain scalar is a string to yaml.v3, and a surrogate in a recipient
    # does not stop age: sops reads both files, so rekey plans them like any other
    assert named == set(HOSTILE) - {"surrogate-recipient.json", "bigint.yaml"}, rekey.stdout
    recipients = run_cli("--repo", world.root, "recipients", *sorted(where.iterdir()),
                         env=world.env(), timeout=120)
    _one_clean_line(recipients.stderr)
    assert recipients.code == 0
    runbook = run_cli("--repo", world.root, "runbook", "rotate-key", "flux-sandbox", "--to",
                      "fs2", env=world.env(), timeout=120)
    _one_clean_line(runbook.stderr)
    assert runbook.code == 0


@pytest.mark.parametrize("line", [
    b'{"' + b"k" * 70000 + b'": kind: Secret\n',  # the fuzzed line, as found
    b"k" * 70000 + b" password\n",
    b"[s]\n" + b"x/" * 35000 + b" token\n",
])
def test_a_huge_key_line_is_scanned_in_bounded_time(line: bytes) -> None:
    """Found by `make fuzz` (seed 20261129, case 13896 and nine more): the generic
    detector's key pattern re-scanned a long word from every start in it (quadratic: 20 to
    60 s of CPU for one 70 KB line in `audit`)."""
    from sopskit.audit.scan import ScanSettings, scan_bytes
    from tests.fuzz.harness import cpu_limit

    with cpu_limit(5):
        scan_bytes("config.yaml", line, ScanSettings())


@pytest.mark.parametrize(("name", "data"), [
    ("app.env", b"DB_PASS=ENC[AE\\udc00S256_GCM,data:N/thbR0h9qsF+UYpikAky1GN,iv:qsBb4TD"
                b"nMu4G25+XN8zEdJkTCGY0e2xrL/vGpKha1gKq8=,tag:Fv2r/OkEAdukT+yF++FsXA==,"
                b"type:str]\n"),
    ("app.ini", b"[db]\npassword = ENC[\\udc00AES256_GCM,data:Y0wjnU3O,iv:Y7QQ6bmiELmZKjn"
                b"Aq4paYSot971JP9VoAppnMZd84eg=,tag:fGmBqHICWToMlHFRPUwjbw==,type:str]\n"),
])
def test_a_value_escaping_a_lone_surrogate_gets_a_fingerprint(name: str, data: bytes) -> None:
    """Found by `make fuzz` (seed 20261129, cases 37092 and 14643): a value whose escape
    decodes to a lone surrogate could not be hashed for its fingerprint (exit 4 in audit)."""
    from sopskit.audit.fingerprint import secret_fingerprint
    from sopskit.audit.scan import ScanSettings, scan_bytes

    result = scan_bytes(name, data, ScanSettings())
    assert all(len(f.fingerprint) == 32 for f in result.findings)
    assert secret_fingerprint("r", "a\udc00b") != secret_fingerprint("r", "a\ud800b")
    assert secret_fingerprint("r", "caf\xe9") == secret_fingerprint("r", "café")
