"""yamlio: errors name the file and line and never carry a value of the document."""

from __future__ import annotations

import pytest

from sopskit import yamlio
from sopskit.errors import InputError

SECRET = "hunter2-s3cr3t"


@pytest.mark.parametrize("rt", [True, False])
def test_duplicate_key_error_names_the_line_not_the_values(rt: bool) -> None:
    text = f"a: 1\npassword: {SECRET}-old\npassword: {SECRET}\n"
    with pytest.raises(InputError) as info:
        yamlio.load(text, path="s.yaml", rt=rt)
    assert str(info.value) == "s.yaml:3: password: invalid YAML: found duplicate key"
    assert SECRET not in str(info.value)


def test_duplicate_key_in_a_stream_keeps_values_out() -> None:
    text = f"---\nx: 1\n---\ntoken: {SECRET}\ntoken: {SECRET}x\n"
    with pytest.raises(InputError) as info:
        yamlio.load_all(text, path="m.yaml", rt=False)
    assert SECRET not in str(info.value)
    assert info.value.line == 5


def test_bad_timestamp_value_is_not_echoed() -> None:
    with pytest.raises(InputError) as info:
        yamlio.load(f"when: !!timestamp {SECRET}\n", path="t.yaml")
    assert SECRET not in str(info.value)
    assert str(info.value).startswith("t.yaml:1: invalid YAML: failed to construct timestamp")


def test_syntax_error_keeps_the_parser_problem() -> None:
    with pytest.raises(InputError) as info:
        yamlio.load("a: [\n", path="b.yaml")
    assert str(info.value) == ("b.yaml:2: invalid YAML: expected the node content, but found"
                               " '<stream end>'")


def test_control_character_names_its_line() -> None:
    with pytest.raises(InputError) as info:
        yamlio.load("a: 1\nb: x\x00y\n", path="c.yaml", rt=True)
    assert str(info.value) == ("c.yaml:2: invalid YAML: control character #x0000 is not"
                               " allowed")
