"""Bad input gives one clear InputError line naming the file (and line), never a value."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from sopskit.errors import InputError
from sopskit.identity.model import Identities
from sopskit.sopsfile.document import NotSopsFile, parse
from sopskit.sopsfile.verify import verify_file
from tests.helpers import UPSTREAM


@pytest.mark.parametrize(("name", "data", "fmt", "expect", "line"), [
    ("bad.yaml", b"a: [unclosed\nb: 'secretvalue\n", "yaml", "invalid YAML", 2),
    ("bad.json", b'{"a": "secretvalue",\n  "b": }', "json", "invalid JSON", 2),
    ("dup.yaml", b"a: 1\na: 2\n", "yaml", "duplicate key 'a'", 2),
    ("dup.env", b"A=1\nno equals secretvalue\n", "dotenv", "invalid dotenv line", 2),
    ("bad.ini", b"[s]\nsecretvalue\n", "ini", "invalid INI", 2),
    ("empty.yaml", b"", "yaml", "file is empty", None),
    ("junk.yaml", os.urandom(2048) + b"\x00", "yaml", "binary data", None),
    ("list.yaml", b"- a\n- b\n", "yaml", "must be a mapping", 1),
    ("plain.yaml", b"a: secretvalue\n", "yaml", "no sops metadata", None),
    ("only-comments.yaml", b"# just a comment\n", "yaml", "no sops metadata", None),
])
def test_malformed_input(name: str, data: bytes, fmt: str, expect: str, line: int | None) -> None:
    with pytest.raises(InputError) as err:
        parse(data, path=name, fmt=fmt)  # type: ignore[arg-type]
    text = str(err.value)
    assert text.startswith(name) and expect in text and "\n" not in text
    assert err.value.line == line
    assert "secretvalue" not in text


def test_truncated_file() -> None:
    data = (UPSTREAM / "example.json").read_bytes()
    with pytest.raises(InputError, match="invalid JSON") as err:
        parse(data[: len(data) // 2], path="example.json", fmt="json")
    assert err.value.line is not None


def test_truncated_yaml_loses_metadata() -> None:
    data = (UPSTREAM / "example.yaml").read_bytes()
    cut = data[: data.index(b"\nsops:")]
    with pytest.raises(NotSopsFile):
        parse(cut, path="example.yaml", fmt="yaml")


def test_50mb_file(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"k: " + b"x" * (50 * 1024 * 1024) + b"\n")
    with pytest.raises(InputError, match=r"50\.0 MiB, larger than the 16 MiB limit"):
        parse(big.read_bytes(), path=str(big), fmt="yaml", max_size=16 * 1024 * 1024)
    limited = verify_file(big, Identities(), max_size=1024 * 1024)
    assert [p.check for p in limited.problems] == ["parse"]
    assert "larger than the 1 MiB limit" in limited.problems[0].message
    report = verify_file(big, Identities())  # under the default 64 MiB limit: parsed
    assert not report.ok
    assert [(p.check, p.message.split(":")[0]) for p in report.problems] == [
        ("parse", "no sops metadata found")]


def test_verify_file_turns_parse_errors_into_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"a": ')
    report = verify_file(bad, Identities())
    assert not report.ok
    assert [p.check for p in report.problems] == ["parse"]


def test_verify_file_refuses_fifo_and_devices_without_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "s.yaml"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero"), tmp_path):  # would block / never end / a dir
        report = verify_file(path, Identities())
        assert not report.ok
        assert [p.check for p in report.problems] == ["parse"]
        assert "not a regular file" in report.problems[0].message


@pytest.mark.parametrize(("data", "fmt"), [
    (b"a: " + b"[" * 100_000, "yaml"),
    (b"a:\n" + b"".join(b" " * i + b"- \n" for i in range(1, 3000)), "yaml"),
    (b'{"a":' + b"[" * 100_000, "json"),
])
def test_hostile_nesting_is_an_input_error(data: bytes, fmt: str) -> None:
    with pytest.raises(InputError, match="nested too deeply"):
        parse(data, path="deep", fmt=fmt)  # type: ignore[arg-type]


def test_malformed_flattened_metadata_is_a_metadata_problem() -> None:
    from sopskit.sopsfile.verify import check_structure

    data = (b"[s]\nk = v\n[sops]\nage__list_0__map_enc__list_1 = x\nage__list_x = 1\n"
            b"lastmodified = yesterday\nversion = 3.11.0\n")
    problems = check_structure(parse(data, path="m.ini", fmt="ini"))
    checks = {(p.check, p.key_path) for p in problems}
    assert ("metadata", "sops.lastmodified") in checks
    assert ("metadata", "sops.age[0].recipient") in checks
    assert ("metadata", "sops.age[0].enc") in checks
    assert ("plaintext-value", "s.k") in checks


def test_invalid_crypt_regex_fails_verification(make_sops: Callable[..., Path],
                                                age_ids: Identities) -> None:
    """sops ignores an invalid encrypted_regex and encrypts nothing; the file is otherwise
    consistent (even its MAC), so verify must not call it ok."""
    path = make_sops("bad-regex.yaml", "password: hunter2-plain\n",
                     "--encrypted-regex", "^(password")
    assert b"hunter2-plain" in path.read_bytes()  # what sops really wrote
    report = verify_file(path, age_ids)
    assert not report.ok
    assert [(p.check, p.key_path) for p in report.problems] == [
        ("metadata", "sops.encrypted_regex"), ("no-encrypted-values", "sops")]
    assert "hunter2" not in str(report.as_dict())
