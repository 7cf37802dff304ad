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


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SECRETS = st.text(alphabet=st.sampled_from(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.@/+:;, "),
    min_size=4, max_size=40).map(str.strip).filter(lambda s: len(s) >= 4)
SHAPES = [
    "Error unmarshalling file: invalid dotenv input line: {}",
    "Error unmarshalling file: yaml: cannot decode !!str `{}` as a !!int",
    'time="2024-01-01T00:00:00Z" level=fatal msg="bad value \\"{}\\" here"',
    "Could not unmarshal input data: key-value delimiter not found: {}",
    "{}",
]


@given(secret=SECRETS, shape=st.sampled_from(SHAPES))
def test_a_plaintext_value_never_survives(secret: str, shape: str) -> None:
    out = sanitise(shape.format(secret).encode(), plaintexts=[f"KEY={secret}\n".encode()])
    words = {w.lower() for w in out.split()}
    assert secret not in out or secret.lower() in words & {
        "error", "file", "line", "value", "input", "data"}
