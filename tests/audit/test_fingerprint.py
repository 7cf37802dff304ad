"""Fingerprints are stable across versions and machines (baselines and code-scanning alerts
depend on them): these golden values may only change with a new salt version, which
invalidates every baseline; and they are the documented scrypt, not a fast hash."""

from __future__ import annotations

import hashlib

from sopskit.audit.fingerprint import secret_fingerprint, subject_fingerprint


def test_golden_values() -> None:
    assert secret_fingerprint("generic-secret", "hunter2") == "8132fad0443e5c5b715b53f4e27eb53b"
    assert secret_fingerprint("jwt", "hunter2") == "1433f08f447137cf2014794779e6f145"
    assert subject_fingerprint("no-rule", "a.sops.yaml", "no-rule") == \
        "841ecc407cae75fb02e33dd47d11ae58"


def test_not_a_plain_hash_of_the_value() -> None:
    fp = secret_fingerprint("generic-secret", "hunter2")
    for algo in ("md5", "sha1", "sha256", "sha512"):
        assert fp not in hashlib.new(algo, b"hunter2").hexdigest()
