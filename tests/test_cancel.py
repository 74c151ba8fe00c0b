"""Cancel mid-stream: the stream ends as AgentOS ends it (i1, i7), and the run is recorded."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mockserver.app import create_app
from mockserver.settings import Settings
from tests.conftest import EXTRA_CAPTURES as EXTRA
from tests.conftest import capture_frames, run_server
from tests.slow_team import count, reading, serve_app, write_slow_team


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = write_slow_team(tmp_path_factory.mktemp("scenarios"))
    with run_server(Settings(scenarios=Path(directory), speed=1)) as url:
        yield url


def _keys(frames: list[tuple[str, dict]], event: str) -> list[str]:
    return next(list(data) for name, data in frames if name == event)


def test_cancel_mid_stream_ends_with_cancelled_then_completed(url: str) -> None:
    with reading(f"{url}/teams/slow-team/runs", {"message": "go", "session_id": ""}) as stream:
        stream.wait_for(lambda frames: count("TeamRunContent")(frames) >= 3)
        run_id = stream.frames[0][1]["run_id"]
        started = time.monotonic()
        response = httpx.post(f"{url}/teams/slow-team/runs/{run_id}/cancel")
        frames = stream.finish()
    assert response.status_code == 200 and response.json() == {}
    assert time.monotonic() - started < 1.0, "the stream ends at once, not after its 1.5 s of text"
    names = [name for name, _ in frames]
    assert names[-2:] == ["TeamRunCancelled", "TeamRunCompleted"]
    streamed = "".join(d["content"] for name, d in frames if name == "TeamRunContent")
    assert 3 <= names.count("TeamRunContent") < 30
    cancelled, completed = frames[-2][1], frames[-1][1]
    assert cancelled["content"] == streamed == completed["content"]
    assert cancelled["reason"] == f"Run {run_id} was cancelled"
    captured = capture_frames("i1_cancel_stream")
    assert _keys(frames, "TeamRunCancelled") == _keys(captured, "TeamRunCancelled")
    assert _keys(frames, "TeamRunCompleted") == _keys(captured, "TeamRunCompleted")
    assert list(completed["metrics"]) == list(captured[-1][1]["metrics"])  # time_to_first_token, duration
    assert 0 < completed["metrics"]["time_to_first_token"] < completed["metrics"]["duration"] < 1.5

    session_id = frames[0][1]["session_id"]
    runs = httpx.get(f"{url}/sessions/{session_id}/runs", params={"type": "team"}).json()
    assert [(r["status"], r["content"]) for r in runs] == [("CANCELLED", streamed)]
    assert [e["event"] for e in runs[0]["events"]][-2:] == ["TeamRunCancelled", "TeamRunCompleted"]


def test_cancel_during_a_member_run_closes_the_member_first(url: str) -> None:
    with reading(f"{url}/teams/slow-team/runs", {"message": "member please"}) as stream:
        stream.wait_for(lambda frames: count("RunContent")(frames) >= 2)
        run_id = stream.frames[0][1]["run_id"]
        httpx.post(f"{url}/teams/slow-team/runs/{run_id}/cancel")
        frames = stream.finish()
    names = [name for name, _ in frames]
    assert names[-4:] == ["RunCancelled", "RunCompleted", "TeamRunCancelled", "TeamRunCompleted"]
    assert "TeamToolCallCompleted" not in names, "the interrupted delegation never completes (i7)"
    member_run = next(d for name, d in frames if name == "RunStarted")["run_id"]
    member_text = "".join(d["content"] for name, d in frames if name == "RunContent")
    member_cancelled, team_cancelled, team_completed = frames[-4][1], frames[-2][1], frames[-1][1]
    assert member_cancelled["run_id"] == member_run and member_cancelled["content"] == member_text
    assert member_cancelled["reason"] == f"Run {member_run} was cancelled"
    assert team_cancelled["reason"] == f"Run {run_id} was cancelled"
    assert team_cancelled["content"].startswith("lookup(topic=member please) completed in")
    assert team_cancelled["content"].endswith(member_text)
    [response] = team_completed["member_responses"]
    assert (response["run_id"], response["status"], response["content"]) == (member_run, "CANCELLED", member_text)
    captured = capture_frames("i7_cancel_during_member_run")
    for event in ("RunCancelled", "TeamRunCancelled"):
        assert _keys(frames, event) == _keys(captured, event)
    assert list(team_completed) == _keys(captured, "TeamRunCompleted")


def test_cancel_answers_an_empty_object_for_any_run_of_a_known_team(url: str) -> None:
    for run_id in ("no-such-run", "x"):
        response = httpx.post(f"{url}/teams/slow-team/runs/{run_id}/cancel")
        assert (response.status_code, response.json()) == (200, {})
    unknown = httpx.post(f"{url}/teams/no-such-team/runs/x/cancel")
    assert unknown.status_code == 404 and unknown.json()["detail"] == "Team not found"


def test_a_finished_run_is_not_changed_by_a_late_cancel(tmp_path: Path) -> None:
    with run_server(Settings(scenarios=write_slow_team(tmp_path), speed=0)) as fast:
        response = httpx.post(f"{fast}/teams/slow-team/runs", data={"message": "go"})
        frames = [line for line in response.text.split("\n") if line.startswith("event: ")]
        run_id = response.text.split('"run_id":"')[1].split('"')[0]
        assert httpx.post(f"{fast}/teams/slow-team/runs/{run_id}/cancel").json() == {}
    assert frames[-1] == "event: TeamRunCompleted" and "event: TeamRunCancelled" not in frames


def test_a_client_that_leaves_mid_stream_leaves_no_live_run_and_a_cancelled_run(tmp_path: Path) -> None:
    """As AgentOS 3.1.10 stores it (`agentos-3.1.10-extra/n1_disconnect_runs_now`): CANCELLED, the
    text so far, stored events closed by the cancel pair with the reason "Operation cancelled by user"."""
    app = create_app(Settings(scenarios=write_slow_team(tmp_path), speed=1))
    state = app.state.mock
    with serve_app(app) as url, httpx.Client(timeout=5) as http:
        with http.stream("POST", f"{url}/teams/slow-team/runs", data={"message": "go"}) as response:
            lines = response.iter_lines()
            first = next(line for line in lines if line.startswith("data: "))
            assert len(state.live_runs) == 1
        deadline = time.monotonic() + 2
        while len(state.live_runs) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(state.live_runs) == 0, "the run is unregistered as soon as its client leaves"
        session_id = first.split('"session_id":"')[1].split('"')[0]
        [stored] = http.get(f"{url}/sessions/{session_id}/runs").json()
    [real] = json.loads((EXTRA / "n1_disconnect_runs_now.body").read_bytes())
    assert (stored["status"], "cancellation_stage" in stored) == (real["status"], False)
    assert [e["event"] for e in stored["events"]][-2:] == [e["event"] for e in real["events"]][-2:]
    cancelled = next(e for e in stored["events"] if e["event"] == "TeamRunCancelled")
    real_cancelled = next(e for e in real["events"] if e["event"] == "TeamRunCancelled")
    assert list(cancelled) == list(real_cancelled) and cancelled["reason"] == real_cancelled["reason"]
    assert cancelled["content"] == stored["content"]


def test_a_client_that_leaves_during_a_member_run_stores_only_the_team_run(url: str) -> None:
    """`agentos-3.1.10-extra/n2`: the member under way is not stored; the team run is CANCELLED
    and its content is what the member had produced (its tool line and text)."""
    session_id = f"left-{time.monotonic_ns()}"
    data = {"message": "member please", "session_id": session_id}
    with httpx.stream("POST", f"{url}/teams/slow-team/runs", data=data, timeout=10) as response:
        seen = b""
        for chunk in response.iter_raw():
            seen += chunk
            if seen.count(b"event: RunContent\n") >= 2:
                break
    deadline = time.monotonic() + 5
    while (runs := httpx.get(f"{url}/sessions/{session_id}/runs")).status_code == 404:
        assert time.monotonic() < deadline, "the run that lost its client was never stored"
        time.sleep(0.02)
    [team_run] = runs.json()
    [real] = json.loads((EXTRA / "n2_disconnect_member_runs_later.body").read_bytes())
    assert (team_run["status"], "team_id" in team_run) == (real["status"], True)
    assert team_run["content"].startswith("lookup(topic=member please) completed in")
    assert team_run["content"].endswith("m0 m1 ")
