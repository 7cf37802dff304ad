"""The fuzz harness in the normal test run: a few thousand mutated sops files (all five
stores) through verify, decrypt and the audit scan, in-process. `make fuzz` runs the same
harness for 100,000+ cases (tests/fuzz/run.py)."""

from __future__ import annotations

from tests.fuzz import mutator
from tests.fuzz.harness import fuzz, identities, run_case

NORMAL_CASES = 2000
NORMAL_SEED = 20261129


def test_the_vectors_verify_with_their_key() -> None:
    from sopskit.sopsfile.verify import verify_bytes

    for seed in mutator.seeds():
        report = verify_bytes(seed.data, path=seed.name, fmt=seed.fmt,  # type: ignore[arg-type]
                              identities=identities())
        assert report.ok and report.mac_checked, (seed.name, report.problems)
        run_case(seed.data, seed.fmt, identities())


def test_mutations_are_deterministic() -> None:
    pool = mutator.seeds()
    assert [mutator.case(7, n, pool)[1] for n in range(50)] == [
        mutator.case(7, n, pool)[1] for n in range(50)]


def test_fuzz_no_exit_4_and_no_slow_case() -> None:
    figures = fuzz(NORMAL_SEED, NORMAL_CASES)
    assert figures.failures == []
    assert figures.cases == NORMAL_CASES
