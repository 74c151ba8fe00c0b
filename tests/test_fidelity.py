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


# -- 3. session history ----------------------------------------------------------------------

SESSION_STEPS = [
    "s1_owned_run", "s2_no_user_into_owned", "s3_delegating_run", "s4_session_detail", "s5_session_runs",
    "s6_session_name_derived", "s7_rename", "s8_session_name_renamed", "s9_db_id_bogus_list",
    "s10_db_id_bogus_one", "s11_team_session_as_agent", "s12_patch",
]


@pytest.fixture(scope="module")
def session_story() -> Iterator[dict[str, tuple[dict[str, Any], httpx.Response]]]:
    """The captured session story replayed, step by step, on a mock of its own."""
    with run_server(Settings(scenarios=TEST_SCENARIOS, speed=0, error_format="agentos")) as url:
        yield {name: replay(url, name) for name in SESSION_STEPS}


def real_and_mock(story: dict[str, tuple[dict[str, Any], httpx.Response]], name: str) -> tuple[Any, Any]:
    exchange, response = story[name]
    assert response.status_code == exchange["status"], name
    return json.loads(exchange["body"]), response.json()


def test_an_owned_session_refuses_a_run_without_a_user(session_story: dict) -> None:
    real, mock = real_and_mock(session_story, "s2_no_user_into_owned")
    assert mock == real == {"detail": "Session not found"}


@pytest.mark.parametrize("name", ["s4_session_detail", "s7_rename", "s12_patch"])
def test_chat_history_has_no_tool_messages_and_the_keys_are_agentos(session_story: dict, name: str) -> None:
    real, mock = real_and_mock(session_story, name)
    assert list(mock) == list(real), "rename and PATCH write the null keys, GET leaves them out"
    assert [m["role"] for m in mock["chat_history"]] == [m["role"] for m in real["chat_history"]]
    assert {k: mock[k] for k in ("session_summary", "metadata", "total_tokens") if k in real} == {
        k: real[k] for k in ("session_summary", "metadata", "total_tokens") if k in real
    }


def test_member_events_are_stored_on_the_team_run(session_story: dict) -> None:
    real, mock = real_and_mock(session_story, "s5_session_runs")
    assert [list(run) for run in mock] == [list(run) for run in real]
    assert [[e["event"] for e in run.get("events", [])] for run in mock] == [
        [e["event"] for e in run.get("events", [])] for run in real
    ]


def test_session_name_matches_only_a_name_set_by_rename(session_story: dict) -> None:
    real, mock = real_and_mock(session_story, "s6_session_name_derived")
    assert mock["data"] == real["data"] == []
    real, mock = real_and_mock(session_story, "s8_session_name_renamed")
    assert [s["session_name"] for s in mock["data"]] == [s["session_name"] for s in real["data"]] == ["Capital question"]


@pytest.mark.parametrize("name", ["s9_db_id_bogus_list", "s10_db_id_bogus_one"])
def test_an_unknown_db_id_is_a_404(session_story: dict, name: str) -> None:
    real, mock = real_and_mock(session_story, name)
    assert mock == real == {"detail": "No database found with id 'bogus'"}


def test_a_team_session_reads_as_an_agent_session(session_story: dict) -> None:
    real, mock = real_and_mock(session_story, "s11_team_session_as_agent")
    assert list(mock) == list(real)
    assert mock["agent_session_id"] == mock["session_id"] == real["session_id"]


def test_the_db_id_from_teams_is_accepted(agentos_url: str) -> None:
    db_id = httpx.get(agentos_url + "/teams").json()[0]["db_id"]
    assert httpx.get(agentos_url + "/sessions", params={"db_id": db_id}).status_code == 200


# -- 7. smaller ones -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["t_delete_sessions_no_body", "t_delete_sessions_empty_object"])
def test_delete_sessions_without_its_fields_is_fastapis_422(agentos_url: str, name: str) -> None:
    exchange, response = replay(agentos_url, name)
    assert response.status_code == exchange["status"] == 422
    assert response.json() == json.loads(exchange["body"])


@pytest.mark.parametrize("name", ["a1_two_authorization_headers", "a2_two_authorization_headers_wrong_first"])
def test_the_first_of_two_authorization_headers_counts(name: str) -> None:
    settings = Settings(scenarios=TEST_SCENARIOS, speed=0, error_format="agentos", security_key="fidelity-key")
    with run_server(settings) as url:
        exchange, response = replay(url, name)
    assert response.status_code == exchange["status"]
    if exchange["status"] == 401:
        assert response.json() == json.loads(exchange["body"])
