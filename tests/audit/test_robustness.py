"""Any bytes at all: scanning never raises and never reports a value (hypothesis)."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sopskit.audit.scan import ScanSettings, scan_bytes

NAMES = st.sampled_from(["a.yaml", "b.json", "c.env", "d.ini", "e.sops.yaml", "f", "g.py",
                         "h.md", "i.enc.json"])
FRAGMENTS = st.sampled_from([
    "kind: Secret\n", "stringData:\n", "  password: ", "sops:\n", "    mac: ", "ENC[AES256_GCM,",
    "data:", "iv:", "tag:", "type:str]", "-----BEGIN RSA PRIVATE KEY-----\n", "AGE-SECRET-KEY-1",
    "---\n", "{", "}", "[", "]", '"', "'", ": ", "=", "\n", "  ", "- ", "lastmodified: x\n",
    "version: 3.9\n", "kind: List\nitems:\n", "&a ", "*a", "!!binary ", "\x00", "\udcff",
])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=NAMES, parts=st.lists(FRAGMENTS | st.text(max_size=12), max_size=40))
def test_scan_never_raises(name: str, parts: list[str]) -> None:
    data = "".join(parts).encode("utf-8", "surrogateescape")
    result = scan_bytes(name, data, ScanSettings())
    for f in result.findings:
        json.dumps(f.as_dict())
        assert f.line is None or f.line >= 1


@pytest.mark.timeout(60)  # a hang guard, not a benchmark: it takes well under a second
def test_a_run_dense_with_encoded_headers_is_decoded_once() -> None:
    """1.5 MB of base64 `-----BEGIN ` headers (each one was decoded again, 64 KB at a
    time: hours), then a real base64-encoded private key in the same run: still found."""
    from tests.audit.evasions import corpus_keys

    key = base64.b64encode(corpus_keys().rsa.encode()).decode()
    header = base64.b64encode(b"-----BEGIN -----BEGIN -----BEGIN ").decode()
    data = f"blob: {header * 35_000}{key}\n".encode()
    found = scan_bytes("a.yaml", data, ScanSettings(max_file_size=4 << 20)).findings
    assert [(f.rule, f.severity.label) for f in found] == [("private-key", "critical")]
