"""The upstream sops vectors and the real-world repository, read natively."""

from __future__ import annotations

from pathlib import Path

import pytest

from sopskit.identity.model import Identities
from sopskit.sopsfile.datakey import recover_data_key
from sopskit.sopsfile.document import detect_format, looks_like_sops, parse
from sopskit.sopsfile.verify import check_structure, verify_file
from tests.helpers import REAL_WORLD, UPSTREAM, GpgHome

ENCRYPTED = ["example.yaml", "example.json", "example.ini", "example.txt", "format.enc.yaml",
             "format.enc.json", "format.enc.env", "format.enc.ini", "format-2.enc.ini",
             "comments.enc.yaml", "multiple_keys.yaml"]


@pytest.fixture(scope="module")
def upstream_ids(upstream_gpg: GpgHome) -> Identities:
    return Identities(gnupghome=upstream_gpg.path)


@pytest.mark.parametrize("name", ENCRYPTED)
def test_upstream_vector_verifies_with_mac(name: str, upstream_ids: Identities) -> None:
    report = verify_file(UPSTREAM / name, upstream_ids, require_mac=True)
    assert report.problems == []
    assert report.ok and report.mac_checked


def test_no_mac_vector_fails_verification(upstream_ids: Identities) -> None:
    report = verify_file(UPSTREAM / "no_mac.yaml", upstream_ids)
    assert not report.ok
    assert [p.check for p in report.problems] == ["mac-missing"]


def test_multiple_keys_old_layout_has_two_pgp_recipients() -> None:
    doc = parse((UPSTREAM / "multiple_keys.yaml").read_bytes(), path="m.yaml", fmt="yaml")
    assert len(doc.metadata.key_groups) == 1
    assert [s.fp for s in doc.metadata.key_groups[0].pgp] == [
        "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4", "D7229043384BCC60326C6FB9D8720D957C3D3074"]
    assert check_structure(doc) == []


def test_pgp_data_key_same_from_either_recipient(upstream_gpg: GpgHome) -> None:
    doc = parse((UPSTREAM / "example.yaml").read_bytes(), path="example.yaml", fmt="yaml")
    key = recover_data_key(doc.metadata, Identities(gnupghome=upstream_gpg.path), path="x")
    assert len(key) == 32


def _real_world_sops_files() -> list[Path]:
    found = []
    for path in sorted(REAL_WORLD.rglob("*")):
        if path.is_file() and looks_like_sops(path.read_bytes(), detect_format(path)):
            found.append(path)
    return found


def test_real_world_files_parse_and_pass_structure_checks() -> None:
    files = _real_world_sops_files()
    assert len(files) == 39
    for path in files:
        doc = parse(path.read_bytes(), path=str(path), fmt=detect_format(path))
        assert check_structure(doc) == [], path
        assert doc.metadata.recipients, path


@pytest.mark.parametrize("name", ENCRYPTED)
def test_native_decrypt_equals_sops_output(name: str, upstream_ids: Identities) -> None:
    from sopskit.sopsfile.decrypt import decrypt_document
    from tests.sopsfile.test_generated import yaml_equal

    doc = parse((UPSTREAM / name).read_bytes(), path=name, fmt=detect_format(name))
    ours = decrypt_document(doc, recover_data_key(doc.metadata, upstream_ids, path=name))
    expected = (UPSTREAM / "decrypted" / name).read_bytes()
    if doc.format == "yaml":
        yaml_equal(ours, expected)  # what the contract promises for YAML
    assert ours == expected  # and in fact byte-identical for every upstream vector
