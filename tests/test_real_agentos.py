"""The real AgentOS harness streams what the captured AgentOS 3.1.10 streamed, and stays offline."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.conftest import capture_frames, parse_sse
from tests.real_agentos import run_real_agentos

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@contextmanager
def offline() -> Iterator[list[str]]:
    """Refuse and record every name lookup or connection that would leave loopback."""
    attempts: list[str] = []
    lookup, connect = socket.getaddrinfo, socket.socket.connect

    def guarded_lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in LOOPBACK:
            attempts.append(f"lookup {host}")
            raise OSError(f"test is offline: lookup of {host}")
        return lookup(host, *args, **kwargs)

    def guarded_connect(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in LOOPBACK:
            attempts.append(f"connect {address}")
            raise OSError(f"test is offline: connect to {address}")
        connect(sock, address)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", guarded_lookup)
        patch.setattr(socket.socket, "connect", guarded_connect)
        yield attempts


@pytest.fixture(scope="module")
def real() -> Iterator[tuple[str, list[str]]]:
    """(URL of a real AgentOS, the outbound attempts recorded while it ran)."""
    with offline() as attempts, run_real_agentos() as url:
        yield url, attempts


def stream_run(url: str, message: str) -> list[tuple[str, dict[str, Any]]]:
    response = httpx.post(f"{url}/teams/research-team/runs", data={"message": message, "stream": "true"}, timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    return parse_sse(response.content)


def shape(frames: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, list[str], list[str]]]:
    """Each frame's event, its keys in order and the keys of its `tool`: what must match a capture."""
    return [(event, list(data), list(data.get("tool") or {})) for event, data in frames]


@pytest.mark.parametrize(("message", "capture"), [("hello", "a2_stream_true_direct"), ("delegate", "a_stream_true")])
def test_a_run_streams_the_frames_of_the_capture(real: tuple[str, list[str]], message: str, capture: str) -> None:
    url, attempts = real
    frames = stream_run(url, message)
    want = capture_frames(capture)
    assert shape(frames) == shape(want)
    content = [data["content"] for event, data in frames if event == "TeamRunContent"]
    assert content == [data["content"] for event, data in want if event == "TeamRunContent"]
    assert frames[-1][1]["content"] == "".join(content)
    assert attempts == []


def test_member_events_name_the_team_run_as_their_parent(real: tuple[str, list[str]]) -> None:
    url, _ = real
    frames = stream_run(url, "delegate")
    team_run = frames[0][1]["run_id"]
    members = [data for event, data in frames if "agent_id" in data]
    assert {data["agent_id"] for data in members} == {"researcher"}
    assert {data["parent_run_id"] for data in members} == {team_run}
    tools = [data["tool"]["tool_name"] for event, data in frames if event in ("TeamToolCallStarted", "ToolCallStarted")]
    assert tools == ["delegate_task_to_member", "lookup_fact"]


def test_the_session_lists_its_runs_afterwards(real: tuple[str, list[str]]) -> None:
    url, attempts = real
    first = stream_run(url, "hello")
    session_id = first[0][1]["session_id"]
    second = httpx.post(
        f"{url}/teams/research-team/runs",
        data={"message": "delegate", "stream": "true", "session_id": session_id},
        timeout=30,
    )
    runs = httpx.get(f"{url}/sessions/{session_id}/runs", params={"type": "team"}).json()
    listed = [(run.get("team_id") or run.get("agent_id"), run["status"], run["content"]) for run in runs]
    assert listed == [
        ("research-team", "COMPLETED", "Direct answer from the team leader: hello!"),
        ("researcher", "COMPLETED", "According to lookup_fact, Paris is France's capital."),
        ("research-team", "COMPLETED", "Here is the Research Team's answer: the capital of France is Paris."),
    ]
    assert runs[1]["parent_run_id"] == parse_sse(second.content)[0][1]["run_id"]
    assert attempts == []


def test_the_model_failure_ends_the_stream_with_team_run_error(real: tuple[str, list[str]]) -> None:
    url, _ = real
    frames = stream_run(url, "fail")
    assert shape(frames) == shape(capture_frames("l1_model_error_stream"))
    assert frames[-1][1]["content"] == "FakeModel was asked to fail"
