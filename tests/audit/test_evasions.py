"""The evasion corpus (tests/audit/evasions.py): each case gives exactly its expected
findings, each decoy none, and no finding shows any part of a planted value."""

from __future__ import annotations

import json

import pytest

from sopskit.audit.rules import rule
from sopskit.audit.scan import ScanSettings, scan_bytes
from tests.audit.evasions import Case, CorpusKeys, corpus_keys, decoys, evasions

KEYS = corpus_keys()
CASES = evasions(KEYS)
DECOYS = decoys(KEYS)


def _scan(case: Case) -> list:
    data = case.content if isinstance(case.content, bytes) else case.content.encode()
    return scan_bytes(case.path, data, ScanSettings()).findings


def test_corpus_is_large_and_covers_every_format() -> None:
    assert len(CASES) >= 50
    assert {c.family for c in CASES} >= {"yaml", "json", "dotenv", "ini", "helm", "kustomize"}
    assert len({c.path for c in CASES + DECOYS}) == len(CASES) + len(DECOYS)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_evasion_is_found_exactly(case: Case) -> None:
    findings = _scan(case)
    assert sorted((f.rule, f.line, f.severity.label) for f in findings) == sorted(case.expected)
    shown = json.dumps([f.as_dict() for f in findings])
    titles = " ".join(rule(f.rule).title for f in findings)
    body = case.secret.strip()
    for i in range(0, max(len(body) - 11, 1), 7):
        piece = body[i:i + 12]
        if len(piece) == 12 and piece not in titles:
            assert piece not in shown, f"{case.id}: finding shows the value"


@pytest.mark.parametrize("case", DECOYS, ids=[c.id for c in DECOYS])
def test_decoy_is_silent(case: Case) -> None:
    assert [(f.rule, f.line, f.message) for f in _scan(case)] == []


def test_keys_are_real() -> None:
    assert isinstance(KEYS, CorpusKeys)
    assert KEYS.rsa.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert KEYS.openssh.startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert KEYS.age.startswith("AGE-SECRET-KEY-1") and KEYS.age_pq.startswith("AGE-SECRET-KEY-PQ-1")
