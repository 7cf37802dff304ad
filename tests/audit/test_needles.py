"""The shared needle pass: every detector's needles found in one RE2 pass per file,
remembered on the Source; a needle registered later is matched too."""

from __future__ import annotations

import pytest

from sopskit.audit.detectors import needles, private_keys, providers
from sopskit.audit.detectors.source import Source
from tests.audit import fakes


def test_one_pass_serves_both_detectors() -> None:
    token = fakes.github()
    src = Source("a.env", f"-----BEGIN RSA PRIVATE KEY-----\nGITHUB_TOKEN={token}\n")
    found = needles.present(src)
    assert {"PRIVATE KEY", "ghp_"} <= found
    assert src.present is found  # remembered: the second detector does not scan again
    assert [h.secret for h in providers.detect(src)] == [token]
    assert list(private_keys.detect(src)) == []  # a header without a body is not a key
    assert needles.present(Source("b.txt", "nothing here")) == frozenset()


def test_registering_later_rebuilds_the_set_and_conflicts_are_refused() -> None:
    needles.register(("zz-test-needle-zz",))
    assert "zz-test-needle-zz" in needles.present(Source("c.txt", "a zz-test-needle-zz b"))
    with pytest.raises(ValueError, match="registered twice"):
        needles.register((), {"aws-secret-access-key": "other"})
