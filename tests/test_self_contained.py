"""The suite needs nothing outside the repository (a user's clone has no team directory beside
it): no test source names the shared directory or an absolute workspace path; data a test needs
lives in tests/vectors/ with its licence note."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
OUTSIDE = re.compile(r"""["'](?:\.\./)+shared\b|["']shared["']|/work/""")


def test_no_test_reads_outside_the_repository() -> None:
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        if "vectors" in path.relative_to(TESTS).parts or path == Path(__file__).resolve():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(TESTS.parent)}:{number}: {line.strip()}")
    assert offenders == []


def test_every_vendored_vector_set_has_its_licence() -> None:
    vectors = TESTS / "vectors"
    sets = [d for d in vectors.iterdir() if d.is_dir()]
    assert sets
    for directory in sets:
        # a set is one directory, or a directory of named trees (real-world/<name>)
        roots = [directory] if any(directory.glob("LICENSE*")) or any(
            directory.glob("README*")) else [d for d in directory.iterdir() if d.is_dir()]
        for root in roots:
            notes = [*root.glob("LICENSE*"), *root.glob("README*"), *root.parent.glob("README*")]
            assert notes, f"{root.relative_to(TESTS.parent)} has no licence or README note"
    assert "licen" in (vectors / "README.md").read_text().lower()
