"""recipient: one normal form for fingerprints, and what counts as one."""

from __future__ import annotations

import pytest

from sopskit.recipient import Recipient, is_pgp_fingerprint, normalise_fingerprint

FPR = "BFAA36B9949A197EE37B60C2685848CB8D57A3E4"


def test_fingerprints_are_normalised() -> None:
    spaced = "bfaa 36b9 949a 197e e37b  60c2 6858 48cb 8d57 a3e4!"
    assert normalise_fingerprint(spaced) == FPR
    assert Recipient.pgp(spaced) == Recipient("pgp", FPR)


@pytest.mark.parametrize(("text", "expected"), [
    (FPR, True),
    (FPR.lower(), True),
    (FPR[-16:], True),  # a long key id
    (FPR[-17:], False),  # neither a key id nor a fingerprint
    (FPR[:39], False),  # a fingerprint missing a digit
    (FPR + "0", False),
    (FPR[-8:], False),  # short key ids collide; not accepted
    ("G" * 40, False),
])
def test_what_is_a_pgp_fingerprint(text: str, expected: bool) -> None:
    assert is_pgp_fingerprint(text) is expected
