"""The mock against the `agentos-3.1.10-fidelity` captures: the same request bytes, the same answer.

Each capture was made by `tests/capture_fidelity.py` against a real AgentOS 3.1.10. A test sends
the captured request to the mock (the test scenarios, whose `research-team` tells the captured
team's story) and compares what a frontend would notice: status, `allow`, the body or its shape.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.settings import Settings
from tests.conftest import TEST_SCENARIOS, run_server

FIDELITY = Path(__file__).resolve().parent / "captures" / "agentos-3.1.10-fidelity"


def capture(name: str) -> dict[str, Any]:
    return json.loads((FIDELITY / f"{name}.json").read_text())


def replay(url: str, name: str) -> tuple[dict[str, Any], httpx.Response]:
    """(the capture, the mock's answer to its request)."""
    exchange = capture(name)
    request = exchange["request"]
    response = httpx.request(
        request["method"], url + request["path"], headers=request["headers"], content=request["body"].encode()
    )
    return exchange, response


def header(exchange: dict[str, Any], name: str) -> str | None:
    return next((v for k, v in exchange["headers"] if k == name), None)


@pytest.fixture(scope="module")
def agentos_url() -> Iterator[str]:
    """The test scenarios with AgentOS's own error bodies, so they compare byte for byte."""
    with run_server(Settings(scenarios=TEST_SCENARIOS, speed=0, error_format="agentos")) as url:
        yield url


# -- 1. uploads and forms --------------------------------------------------------------------


def test_an_empty_file_input_is_ignored(agentos_url: str) -> None:
    exchange, response = replay(agentos_url, "u1_empty_file_input")
    assert exchange["status"] == response.status_code == 200
    real, mock = json.loads(exchange["body"]), response.json()
    assert list(mock) == list(real)
    assert mock["input"] == {"input_content": "hello"} == real["input"], "no file reaches the run"


@pytest.mark.parametrize("name", ["u2_files_text_field", "u3_multipart_garbage", "u4_multipart_no_boundary"])
def test_bad_uploads_are_worded_as_agentos_words_them(agentos_url: str, name: str) -> None:
    exchange, response = replay(agentos_url, name)
    assert response.status_code == exchange["status"]
    assert response.json() == json.loads(exchange["body"])


# -- 5. HTTP details behind proxies and health checks ----------------------------------------


@pytest.mark.parametrize("name", ["t_get_teams_slash", "t_get_health_slash", "t_get_sessions_slash", "t_get_agents_slash"])
def test_a_trailing_slash_is_the_same_route_not_a_redirect(agentos_url: str, name: str) -> None:
    exchange, response = replay(agentos_url, name)
    assert response.status_code == exchange["status"] == 200
    assert type(response.json()) is type(json.loads(exchange["body"]))


@pytest.mark.parametrize("name", ["t_head_health", "t_post_health", "t_put_sessions"])
def test_a_wrong_method_is_a_405_allowing_what_agentos_allows(agentos_url: str, name: str) -> None:
    exchange, response = replay(agentos_url, name)
    assert response.status_code == exchange["status"] == 405
    assert response.headers["allow"] == header(exchange, "allow") == "GET"
    assert response.content == exchange["body"].encode()


def test_a_trailing_slash_on_a_run_streams_as_without(agentos_url: str) -> None:
    with httpx.stream("POST", agentos_url + "/teams/research-team/runs/", data={"message": "[direct] hi"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
