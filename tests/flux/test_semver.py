"""Flux's semver: tags parsed as fluxcd/pkg/version does, ranges as Masterminds v3 does
(table from Masterminds' own documented equivalences and its pre-release rule)."""

from __future__ import annotations

import pytest

from sopskit.errors import InputError
from sopskit.flux.semver import latest_matching, parse_constraint, parse_tag


@pytest.mark.parametrize(("tag", "ok"), [
    ("v1.2.3", True), ("1.2.3", True), ("1.2.3-rc.1", True), ("v1.2.3+build.5", True),
    ("v1.2", False), ("1", False), ("dev-snapshot", False), ("release-3", False),
    ("01.2.3", False), ("v1.2.3-01", False),
])
def test_tags(tag: str, ok: bool) -> None:
    assert (parse_tag(tag) is not None) is ok


@pytest.mark.parametrize(("rng", "version", "ok"), [
    (">=1.0.0 <2.0.0", "1.4.0", True), (">=1.0.0, <2.0.0", "2.0.0", False),
    (">=1.0.0 <2.0.0", "2.0.0-rc.1", False),  # pre-releases need a pre-release range
    (">=1.0.0 <2.0.0", "1.5.0-rc.1", False),
    (">=1.5.0-0", "1.5.0-rc.1", True),  # the range names one
    # Masterminds decides per AND group: one comparator naming a pre-release lets them in
    (">=1.5.0-0 <2.0.0", "1.5.0-rc.1", True), (">=1.5.0-0 <2.0.0", "2.0.0-rc.1", True),
    (">=1.5.0-0 <2.0.0 || 3.x", "3.1.0-rc.1", False),
    ("!=1.2.3", "1.2.4-rc.1", False),
    ("~1.2", "1.2.9", True), ("~1.2", "1.3.0", False), ("~1.2.3", "1.2.2", False),
    ("^1.2.3", "1.9.0", True), ("^1.2.3", "2.0.0", False), ("^0.2.3", "0.3.0", False),
    ("^0.0.3", "0.0.4", False), ("1.x", "1.7.1", True), ("1.x", "2.0.0", False),
    ("*", "3.1.4", True), ("*", "3.1.4-beta", False), (">1.2", "1.2.9", False),
    (">1.2", "1.3.0", True), ("<=1.2", "1.2.9", True), ("1.2 - 1.4.5", "1.4.5", True),
    ("1.2 - 1.4.5", "1.4.6", False), ("1.0.0 || 2.x", "2.3.0", True), ("!=1.2.3", "1.2.3",
                                                                          False),
    ("=1.2.3", "1.2.3", True),
])
def test_ranges(rng: str, version: str, ok: bool) -> None:
    v = parse_tag(version)
    assert v is not None
    assert parse_constraint(rng).check(v) is ok


def test_improper_range_is_one_clear_error() -> None:
    with pytest.raises(InputError, match="improper semver range"):
        parse_constraint(">=1.0 <<2", where="clusters/production/flux-system/gotk-sync.yaml")


@pytest.mark.timeout(60)  # a hang guard, not a benchmark: RE2 answers in milliseconds
def test_a_huge_range_from_the_repository_is_refused_at_once() -> None:
    """A 60,000-character `ref.semver` (Python's re backtracked: 15 s at 20,000 and
    growing); the error shows the start of it, not 60 KB on one line."""
    with pytest.raises(InputError) as info:
        parse_constraint(">=" + "0" * 60_000, where="gotk-sync.yaml")
    assert "improper semver range '>=000" in str(info.value) and len(str(info.value)) < 200


def test_latest_matching_ignores_other_tags_and_orders_by_version() -> None:
    tags = [("v1.0.0", 10), ("v1.10.0", 5), ("v1.9.0", 30), ("dev-snapshot", 99),
            ("v2.0.0-rc.1", 40), ("v1.11.0-rc.1", 50)]
    assert latest_matching(parse_constraint(">=1.0.0 <2.0.0"), tags) == "v1.10.0"
    assert latest_matching(parse_constraint(">=1.11.0-0"), tags) == "v2.0.0-rc.1"
    assert latest_matching(parse_constraint(">=3"), tags) is None
    # equal versions (build metadata differs): the newer tag wins
    assert latest_matching(parse_constraint("1.0.0"), [("1.0.0+b", 20), ("v1.0.0+a", 10)]) \
        == "1.0.0+b"
