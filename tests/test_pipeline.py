"""Every run takes one path: faulted runs are registered, cancellable and stored like the rest."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from mockserver.settings import Settings
from tests.conftest import SHIPPED, parse_sse, run_server


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with run_server(Settings(scenarios=SHIPPED, speed=0)) as running:
        yield running


def run(url: str, team: str, session_id: str, *, stream: bool = True, message: str = "hi") -> httpx.Response:
    data = {"message": message, "session_id": session_id, "stream": str(stream).lower()}
    return httpx.post(f"{url}/teams/{team}/runs", data=data, timeout=30)


def stored(url: str, session_id: str) -> httpx.Response:
    return httpx.get(f"{url}/sessions/{session_id}/runs", params={"type": "team"}, timeout=10)


def team_statuses(url: str, session_id: str) -> list[str]:
    response = stored(url, session_id)
    assert response.status_code == 200, response.text
    return [r["status"] for r in response.json() if "team_id" in r]


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize(
    ("team", "status"),
    [("error-midstream", "ERROR"), ("error-cancelled", "CANCELLED"), ("research-team", "COMPLETED")],
)
def test_a_faulted_run_is_stored_with_the_status_agentos_stores(url: str, team: str, status: str, stream: bool) -> None:
    session_id = str(uuid.uuid4())
    assert run(url, team, session_id, stream=stream).status_code == 200
    assert team_statuses(url, session_id) == [status]


def test_a_slow_head_is_stored_once_it_has_answered() -> None:
    with run_server(Settings(scenarios=SHIPPED, speed=0)) as url:
        session_id = str(uuid.uuid4())
        response = httpx.post(
            f"{url}/teams/error-slow/runs", data={"message": "hi", "session_id": session_id}, timeout=30
        )
        assert response.status_code == 200
        assert team_statuses(url, session_id) == ["COMPLETED"]


@pytest.mark.parametrize("team", ["error-500", "error-401", "error-429"])
def test_a_refused_run_stores_nothing_as_agentos_stores_nothing_for_a_refused_request(url: str, team: str) -> None:
    session_id = str(uuid.uuid4())
    assert run(url, team, session_id).status_code >= 400
    assert stored(url, session_id).status_code == 404


def test_a_flaky_team_stores_only_the_run_that_got_through(url: str) -> None:
    session_id = str(uuid.uuid4())
    statuses = [run(url, "error-flaky", session_id).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert team_statuses(url, session_id) == ["COMPLETED"]


def test_cancel_ends_a_stalled_stream_with_the_cancel_pair(url: str) -> None:
    chunks: list[bytes] = []
    run_id: list[str] = []
    ready = threading.Event()

    def client() -> None:
        with httpx.stream("POST", f"{url}/teams/error-stall/runs", data={"message": "hi"}, timeout=30) as response:
            for chunk in response.iter_raw():
                chunks.append(chunk)
                if not run_id and b"TeamRunStarted" in chunk:
                    run_id.append(parse_sse(chunk)[0][1]["run_id"])
                    ready.set()

    thread = threading.Thread(target=client)
    thread.start()
    assert ready.wait(10)
    time.sleep(0.2)  # the stall holds after five frames
    cancel = httpx.post(f"{url}/teams/error-stall/runs/{run_id[0]}/cancel", timeout=10)
    assert (cancel.status_code, cancel.json()) == (200, {})
    thread.join(10)
    assert not thread.is_alive(), "the stalled stream ended at the cancel"
    events = [name for name, _ in parse_sse(b"".join(chunks))]
    assert events[-2:] == ["TeamRunCancelled", "TeamRunCompleted"]
    assert len(events) == 5 + 2


def test_a_cancelled_stall_is_stored_as_cancelled(url: str) -> None:
    session_id = str(uuid.uuid4())
    run_id: list[str] = []
    ready = threading.Event()

    def client() -> None:
        data = {"message": "hi", "session_id": session_id}
        with httpx.stream("POST", f"{url}/teams/error-stall/runs", data=data, timeout=30) as response:
            for chunk in response.iter_raw():
                if not run_id:
                    run_id.append(parse_sse(chunk)[0][1]["run_id"])
                    ready.set()

    thread = threading.Thread(target=client)
    thread.start()
    assert ready.wait(10)
    httpx.post(f"{url}/teams/error-stall/runs/{run_id[0]}/cancel", timeout=10)
    thread.join(10)
    deadline = time.monotonic() + 5
    while stored(url, session_id).status_code == 404 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert team_statuses(url, session_id) == ["CANCELLED"]


@pytest.mark.parametrize("team", ["error-drop", "error-stall"])
def test_a_run_whose_connection_is_lost_is_stored_cancelled_as_agentos_stores_a_client_that_left(
    url: str, team: str
) -> None:
    """A drop cuts the connection and a stall holds until the client gives up: either way the
    server sees its client go, and AgentOS stores such a run CANCELLED (`agentos-3.1.10-extra/n1`)."""
    session_id = str(uuid.uuid4())
    data = {"message": "hi", "session_id": session_id}
    with pytest.raises(httpx.HTTPError):
        httpx.post(f"{url}/teams/{team}/runs", data=data, timeout=httpx.Timeout(10, read=0.5))
    deadline = time.monotonic() + 5
    while stored(url, session_id).status_code == 404:
        assert time.monotonic() < deadline, "the run was never stored"
        time.sleep(0.02)
    [record] = [r for r in stored(url, session_id).json() if "team_id" in r]
    assert record["status"] == "CANCELLED" and "cancellation_stage" not in record
    reason = next(e for e in record["events"] if e["event"] == "TeamRunCancelled")["reason"]
    assert reason == "Operation cancelled by user"
