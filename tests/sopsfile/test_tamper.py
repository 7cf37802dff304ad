"""Tampering with a sops-made file is caught by native verification, with the right check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sopskit.identity.model import Identities
from sopskit.sopsfile.datakey import recover_data_key
from sopskit.sopsfile.document import parse
from sopskit.sopsfile.verify import VerifyReport, verify_document
from tests.sopsfile.conftest import SopsMaker

PLAIN = "alpha: first-secret\nbeta: second-secret\nitems:\n    - one\n    - two\nkeep: 1\n"


@pytest.fixture(scope="module")
def original(make_sops: SopsMaker) -> bytes:
    return make_sops("tamper.yaml", PLAIN).read_bytes()


def _verify(data: bytes, ids: Identities) -> VerifyReport:
    doc = parse(data, path="tamper.yaml", fmt="yaml")
    return verify_document(doc, recover_data_key(doc.metadata, ids, path="tamper.yaml"))


def _field(data: bytes, key: str, part: str) -> tuple[int, int]:
    """Span of one base64 field (data/iv/tag) of the value at top-level `key`."""
    m = re.search(rb"^" + key.encode() + rb": ENC\[AES256_GCM,data:([^,]*),iv:([^,]*),tag:([^,]*)",
                  data, re.M)
    assert m
    group = {"data": 1, "iv": 2, "tag": 3}[part]
    return m.start(group), m.end(group)


def _flip(data: bytes, pos: int) -> bytes:
    new = b"B" if data[pos:pos + 1] != b"B" else b"C"
    return data[:pos] + new + data[pos + 1:]


def test_untouched_file_verifies(original: bytes, age_ids: Identities) -> None:
    report = _verify(original, age_ids)
    assert report.ok and report.mac_checked


@pytest.mark.parametrize("key", [b"\x00" * 32, b"short"])
def test_wrong_data_key(original: bytes, key: bytes) -> None:
    doc = parse(original, path="tamper.yaml", fmt="yaml")
    report = verify_document(doc, key)
    assert not report.ok and not report.mac_checked
    assert report.problems[0].check == "decrypt"


@pytest.mark.parametrize("part", ["data", "iv", "tag"])
def test_changed_byte_in_value(original: bytes, age_ids: Identities, part: str) -> None:
    start, _ = _field(original, "alpha", part)
    report = _verify(_flip(original, start + 1), age_ids)
    assert not report.ok
    assert [(p.check, p.key_path, p.line) for p in report.problems] == [("decrypt", "alpha", 1)]


def _mac_span(data: bytes) -> tuple[int, int]:
    m = re.search(rb"mac: ENC\[AES256_GCM,data:([^,]*)", data)
    assert m
    return m.start(1), m.end(1)


def test_changed_byte_in_mac(original: bytes, age_ids: Identities) -> None:
    start, _ = _mac_span(original)
    report = _verify(_flip(original, start + 3), age_ids)
    assert [p.check for p in report.problems] == ["mac"]


def test_changed_lastmodified(original: bytes, age_ids: Identities) -> None:
    tampered = re.sub(rb'lastmodified: "(\d{4})', rb'lastmodified: "1999', original)
    assert tampered != original
    assert [p.check for p in _verify(tampered, age_ids).problems] == ["mac"]


def _line_of(data: bytes, key: bytes) -> bytes:
    m = re.search(rb"^" + key + rb": .*$", data, re.M)
    assert m
    return m.group(0)


def test_two_values_swapped(original: bytes, age_ids: Identities) -> None:
    a, b = _line_of(original, b"alpha"), _line_of(original, b"beta")
    swapped = original.replace(a, b"@@").replace(b, a.replace(b"alpha", b"beta", 1))
    swapped = swapped.replace(b"@@", b.replace(b"beta", b"alpha", 1))
    report = _verify(swapped, age_ids)
    assert {p.check for p in report.problems} == {"decrypt"}


def test_list_items_swapped_breaks_mac(original: bytes, age_ids: Identities) -> None:
    lines = original.split(b"\n")
    i = next(n for n, line in enumerate(lines) if line.startswith(b"    - ENC["))
    lines[i], lines[i + 1] = lines[i + 1], lines[i]
    report = _verify(b"\n".join(lines), age_ids)
    assert [p.check for p in report.problems] == ["mac"]


def test_value_moved_to_another_key(original: bytes, age_ids: Identities) -> None:
    value = _line_of(original, b"alpha").split(b": ", 1)[1]
    moved = original.replace(_line_of(original, b"keep"), b"keep: " + value)
    report = _verify(moved, age_ids)
    assert [(p.check, p.key_path) for p in report.problems] == [("decrypt", "keep")]


def test_value_removed(original: bytes, age_ids: Identities) -> None:
    removed = original.replace(_line_of(original, b"beta") + b"\n", b"")
    assert [p.check for p in _verify(removed, age_ids).problems] == ["mac"]


def test_plaintext_pasted_at_encrypted_path(original: bytes, age_ids: Identities) -> None:
    pasted = original.replace(_line_of(original, b"beta"), b"beta: hunter2-pasted")
    report = _verify(pasted, age_ids)
    assert not report.ok
    problem = report.problems[0]
    assert (problem.check, problem.key_path, problem.line) == ("plaintext-value", "beta", 2)
    for p in report.problems:
        assert "hunter2" not in p.message and "hunter2" not in str(p)


def test_report_is_reproducible_as_json(original: bytes, age_ids: Identities,
                                        tmp_path: Path) -> None:
    report = _verify(original.replace(_line_of(original, b"beta"), b"beta: oops"), age_ids)
    assert report.as_dict()["errors"][0]["check"] == "plaintext-value"  # type: ignore[index]


def test_ciphertext_at_plaintext_path(make_sops: SopsMaker, age_ids: Identities) -> None:
    data = make_sops("ctpp.yaml", "secret: s\nnote_unencrypted: hello\n").read_bytes()
    value = _line_of(data, b"secret").split(b": ", 1)[1]
    moved = data.replace(b"note_unencrypted: hello", b"note_unencrypted: " + value)
    report = _verify(moved, age_ids)
    assert ("ciphertext-at-plaintext-path", "note_unencrypted", 2) in [
        (p.check, p.key_path, p.line) for p in report.problems]


def test_two_crypt_rules_and_unknown_field(original: bytes, age_ids: Identities) -> None:
    edited = original.replace(b"    version:", b"    encrypted_regex: ^x$\n    weird: 1\n"
                              b"    version:")
    report = _verify(edited, age_ids)
    problems = [(p.check, p.key_path) for p in report.problems if p.check == "metadata"]
    assert ("metadata", "sops.weird") not in problems  # sops ignores it: a note only
    assert report.notes == ["sops.weird: metadata field sops ignores"]
    assert any(k in ("sops.encrypted_regex", "sops.unencrypted_suffix") for _, k in problems)
