"""Any bytes at all: scanning never raises and never reports a value (hypothesis)."""

from __future__ import annotations

import json

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
