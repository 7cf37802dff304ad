"""sops stderr is relayed as one line with nothing that could be a value."""

from __future__ import annotations

from sopskit.sops.stderr import REDACTED, sanitise


def test_quoted_values_are_redacted() -> None:
    err = b"Error unmarshalling input yaml: cannot unmarshal !!str `hunter22` into map\n"
    out = sanitise(err)
    assert "hunter22" not in out
    assert REDACTED in out
    assert "\n" not in out


def test_words_of_the_plaintext_are_redacted() -> None:
    err = b"Error: something about s3cr3tvalue near line 3\n"
    out = sanitise(err, plaintexts=[b"password: s3cr3tvalue\n"])
    assert "s3cr3tvalue" not in out
    assert "line 3" in out


def test_logrus_is_unwrapped_and_blobs_removed() -> None:
    mac = "A" * 64
    err = f'time="2024" level=fatal msg="MAC mismatch. File has {mac}, computed {mac}"'.encode()
    out = sanitise(err)
    assert mac not in out
    assert out.startswith("MAC mismatch")


def test_long_output_is_cut() -> None:
    assert len(sanitise(b"x " * 1000)) <= 240
