"""The real AgentOS harness streams what the captured AgentOS 3.1.10 streamed, and stays offline."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.conftest import capture_frames, parse_sse
from tests.real_agentos import run_real_agentos
from tests.slow_team import reading

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
RUNS = "/teams/research-team/runs"


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
def real_os() -> Iterator[tuple[str, list[str]]]:
    """(URL of a real AgentOS, the outbound attempts recorded while it runs)."""
    with offline() as attempts, run_real_agentos() as url:
        yield url, attempts


@pytest.fixture
def real_url(real_os: tuple[str, list[str]]) -> Iterator[str]:
    """The real AgentOS's URL; the test fails if anything tried to leave loopback meanwhile."""
    url, attempts = real_os
    yield url
    assert attempts == [], "the real AgentOS tried to reach the network"


def stream_run(url: str, message: str) -> list[tuple[str, dict[str, Any]]]:
    response = httpx.post(f"{url}{RUNS}", data={"message": message, "stream": "true"}, timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    return parse_sse(response.content)


def shape(frames: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, list[str], list[str]]]:
    """Each frame's event, its keys in order and the keys of its `tool`: what must match a capture."""
    return [(event, list(data), list(data.get("tool") or {})) for event, data in frames]


@pytest.mark.parametrize(("message", "capture"), [("hello", "a2_stream_true_direct"), ("delegate", "a_stream_true")])
def test_a_run_streams_the_frames_of_the_capture(real_url: str, message: str, capture: str) -> None:
    frames = stream_run(real_url, message)
    want = capture_frames(capture)
    assert shape(frames) == shape(want)
    content = [data["content"] for event, data in frames if event == "TeamRunContent"]
    assert content == [data["content"] for event, data in want if event == "TeamRunContent"]
    assert frames[-1][1]["content"] == "".join(content)


def test_member_events_name_the_team_run_as_their_parent(real_url: str) -> None:
    frames = stream_run(real_url, "delegate")
    team_run = frames[0][1]["run_id"]
    members = [data for event, data in frames if "agent_id" in data]
    assert {data["agent_id"] for data in members} == {"researcher"}
    assert {data["parent_run_id"] for data in members} == {team_run}
    tools = [data["tool"]["tool_name"] for event, data in frames if event in ("TeamToolCallStarted", "ToolCallStarted")]
    assert tools == ["delegate_task_to_member", "lookup_fact"]


def test_the_session_lists_its_runs_afterwards(real_url: str) -> None:
    first = stream_run(real_url, "hello")
    session_id = first[0][1]["session_id"]
    second = httpx.post(
        f"{real_url}{RUNS}",
        data={"message": "delegate", "stream": "true", "session_id": session_id},
        timeout=30,
    )
    runs = httpx.get(f"{real_url}/sessions/{session_id}/runs", params={"type": "team"}).json()
    listed = [(run.get("team_id") or run.get("agent_id"), run["status"], run["content"]) for run in runs]
    assert listed == [
        ("research-team", "COMPLETED", "Direct answer from the team leader: hello!"),
        ("researcher", "COMPLETED", "According to lookup_fact, Paris is France's capital."),
        ("research-team", "COMPLETED", "Here is the Research Team's answer: the capital of France is Paris."),
    ]
    assert runs[1]["parent_run_id"] == parse_sse(second.content)[0][1]["run_id"]


def first_frames(response: httpx.Response, count: int) -> list[tuple[str, dict[str, Any]]]:
    body = b""
    for chunk in response.iter_raw():
        body += chunk
        if body.count(b"\n\n") >= count:
            break
    return parse_sse(body[: body.rindex(b"\n\n") + 2])


def stored_run(url: str, session_id: str, run_id: str) -> dict[str, Any]:
    """The run as `GET /sessions/{id}/runs` lists it, once it is stored (a cut run is stored by a detached task)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        response = httpx.get(f"{url}/sessions/{session_id}/runs", params={"type": "team"})
        if response.status_code == 200:
            runs = {run["run_id"]: run for run in response.json()}
            if run_id in runs:
                return runs[run_id]
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} was not stored in session {session_id}")


def test_a_failed_model_leaves_an_error_run(real_url: str) -> None:
    frames = stream_run(real_url, "fail")
    assert shape(frames) == shape(capture_frames("l1_model_error_stream"))
    assert frames[-1][1]["content"] == "FakeModel was asked to fail"
    run = stored_run(real_url, frames[0][1]["session_id"], frames[0][1]["run_id"])
    assert (run["status"], run["content"]) == ("ERROR", "FakeModel was asked to fail")
    assert [event["event"] for event in run["events"]][-1] == "TeamRunError"


def test_a_client_that_hangs_up_leaves_a_cancelled_run(real_url: str) -> None:
    with httpx.stream("POST", f"{real_url}{RUNS}", data={"message": "slow"}, timeout=30) as response:
        frames = first_frames(response, 3)
    started = frames[0][1]
    run = stored_run(real_url, started["session_id"], started["run_id"])
    # Cancelled at once, with the text the model had produced when the client left (that it stays
    # so after the run would have ended is in the capture n1c_disconnect_runs_later).
    assert run["status"] == "CANCELLED"
    assert "cancellation_stage" not in run
    assert run["content"].startswith("slow chunk 00. ") and "slow chunk 19." not in run["content"]
    cancelled, completed = run["events"][-2:]
    assert (cancelled["event"], completed["event"]) == ("TeamRunCancelled", "TeamRunCompleted")
    assert cancelled["reason"] == "Operation cancelled by user"


def test_the_cancel_endpoint_leaves_a_cancelled_run(real_url: str) -> None:
    with reading(f"{real_url}{RUNS}", {"message": "slow"}) as reader:
        reader.wait_for(lambda frames: len(frames) >= 3)
        started = reader.frames[0][1]
        assert httpx.post(f"{real_url}{RUNS}/{started['run_id']}/cancel").json() == {}
        frames = reader.finish()
    assert [event for event, _ in frames][-2:] == ["TeamRunCancelled", "TeamRunCompleted"]
    run = stored_run(real_url, started["session_id"], started["run_id"])
    assert (run["status"], run["cancellation_stage"]) == ("CANCELLED", "EXECUTING")
    assert run["events"][-2]["reason"] == f"Run {started['run_id']} was cancelled"


def test_the_stand_alone_agent_runs_and_is_stored(real_url: str) -> None:
    response = httpx.post(f"{real_url}/agents/assistant/runs", data={"message": "lookup", "stream": "true"}, timeout=30)
    frames = parse_sse(response.content)
    events = [event for event, _ in frames]
    assert (events[0], events[-1]) == ("RunStarted", "RunCompleted")
    assert [data["tool"]["tool_name"] for event, data in frames if event == "ToolCallStarted"] == ["lookup_fact"]
    started = frames[0][1]
    runs = httpx.get(f"{real_url}/sessions/{started['session_id']}/runs", params={"type": "agent"}).json()
    assert [(run["agent_id"], run["status"], run["content"]) for run in runs] == [
        ("assistant", "COMPLETED", "According to lookup_fact, Paris is France's capital.")
    ]
