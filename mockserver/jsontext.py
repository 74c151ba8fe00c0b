"""JSON text from outside (request bodies and fields, captures, tool results): read strictly, so
whatever is read can be written back as JSON.

Python's `json` reads more than JSON: `NaN` and `Infinity`, numbers too large for a float (read
as infinity), and `\\ud800` escapes that leave a lone surrogate in a string. None of these can
be written back as JSON in raw UTF-8: `allow_nan=False` refuses the first two, UTF-8 the last,
and a JavaScript client's `JSON.parse` refuses a bare `NaN`. A value holding one broke every
answer that carried it, a stored session's for good. Nesting deeper than the interpreter's stack
raises RecursionError. Here each of these is a `ValueError`, as any bad JSON is.
"""

from __future__ import annotations

import json
import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


def holds_surrogate(text: str) -> bool:
    """Whether `text` holds half of a surrogate pair, which UTF-8 (so no answer) can encode."""
    return _SURROGATE.search(text) is not None


def loads(text: str | bytes | bytearray) -> Any:
    """`json.loads(text)`, raising `ValueError` for anything that cannot be written back as JSON."""
    if not isinstance(text, str):  # as json.loads decodes bytes: UTF-8, -16 or -32 by their start
        text = bytes(text).decode(json.detect_encoding(text), "surrogatepass")
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_finite)
    except RecursionError:
        raise ValueError("JSON nested deeper than it can be read") from None
    if "\\u" in text or holds_surrogate(text):
        _check_text(value)
    return value


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _finite(digits: str) -> float:
    number = float(digits)
    if number in (float("inf"), float("-inf")):
        raise ValueError(f"the number {digits[:40]} is too large")
    return number


def _check_text(value: Any) -> None:
    """Refuse a string or key holding half of a surrogate pair (an escape such as `\\ud800`)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if holds_surrogate(item):
                raise ValueError("a string holds an unpaired surrogate (\\ud800-\\udfff), which is not text")
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
