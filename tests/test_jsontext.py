"""Strict JSON reading: what Python's json reads but JSON cannot carry is a ValueError."""

from __future__ import annotations

import pytest

from mockserver import jsontext


@pytest.mark.parametrize(
    "text",
    [
        '{"a": NaN}',
        "[Infinity]",
        "-Infinity",
        "1e999",
        '["\\ud800"]',
        '{"\\udfff": 1}',
        '{"a": {"b": ["x", "\\udc00y"]}}',
        "[" * 5000 + "]" * 5000,
        '{"a": 1',
    ],
)
def test_what_cannot_be_written_back_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        jsontext.loads(text)


def test_json_reads_as_json_loads_reads_it() -> None:
    assert jsontext.loads('{"a": [1, 2.5, -1e300, "\\ud83d\\ude00", null, true]}') == {
        "a": [1, 2.5, -1e300, "\U0001f600", None, True]
    }
    assert jsontext.loads(b'{"caf\\u00e9": "\\u00e9t\\u00e9"}') == {"café": "été"}
    assert jsontext.loads('{"a": 1}'.encode("utf-16")) == {"a": 1}
    assert jsontext.loads(bytearray(b"[1]")) == [1]
