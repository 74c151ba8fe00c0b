"""The urlencoded form reader: the same fields as Starlette's parser gives, whatever the bytes."""

from __future__ import annotations

import random
from urllib.parse import parse_qsl

import pytest

from mockserver.http.forms import _pairs

SHAPES = [
    b"",
    b"&",
    b"a",
    b"a=",
    b"=b",
    b"==",
    b"a=b&c=d",
    b"a=b&&c",
    b"a=b=c&x",
    b"&a=1&",
    b"a+b=c+d",
    b"%3D=%26",
    b"a;b=c",
    b"m=hello+w%C3%B6rld%ZZ&s=%FF",
    "m=caf\xe9 r\u00e9 €".encode(),
]


def _parsed(body: bytes) -> list[tuple[str, str]]:
    return parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="replace")


@pytest.mark.parametrize("body", SHAPES)
def test_fields_are_those_parse_qsl_gives(body: bytes) -> None:
    assert _pairs(bytearray(body)) == _parsed(body)


def test_random_bodies_give_the_fields_parse_qsl_gives() -> None:
    rng = random.Random(13)
    for _ in range(3000):
        body = bytes(rng.choice(b"ab=&+%3D;\xff\xc3") for _ in range(rng.randint(0, 12)))
        assert _pairs(bytearray(body)) == _parsed(body), body


def test_the_body_is_let_go_once_its_fields_are_read() -> None:
    body = bytearray(b"message=" + b"word+" * 1000 + b"&stream=false")
    assert _pairs(body) == [("message", "word " * 1000), ("stream", "false")]
    assert body == b""
