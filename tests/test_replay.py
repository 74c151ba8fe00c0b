"""A recorded real stream, stored as `event:` items, replays losslessly."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest
import yaml

from mockserver.settings import Settings
from tests.conftest import capture_frames, parse_sse, run_server

ENVELOPE_IDS = ("run_id", "session_id", "parent_run_id", "created_at")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def recorded_scenario(capture: str) -> str:
    events = [
        {"event": name, **{k: v for k, v in data.items() if k != "event"}} for name, data in capture_frames(capture)
    ]
    document = {
        "version": 1,
        "team": {
            "id": "research-team",
            "name": "Research Team",
            "members": [{"id": "researcher", "name": "Researcher"}, {"id": "writer", "name": "Writer"}],
        },
        "scenarios": [{"name": "recorded", "gap": 0, "events": events}],
    }
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


def without_ids(frame: dict) -> str:
    return UUID.sub("ID", str({k: v for k, v in frame.items() if k not in ENVELOPE_IDS}))


@pytest.mark.parametrize("capture", ["a_stream_true", "i7_cancel_during_member_run", "l1_model_error_stream"])
def test_a_recorded_stream_replays_frame_for_frame(tmp_path: Path, capture: str) -> None:
    (tmp_path / "recorded.yaml").write_text(recorded_scenario(capture))
    with run_server(Settings(scenarios=tmp_path, speed=0)) as url:
        frames = parse_sse(httpx.post(f"{url}/teams/research-team/runs", data={"message": "hi"}).content)
    expected = capture_frames(capture)
    assert [e for e, _ in frames] == [e for e, _ in expected]
    for (_, got), (_, real) in zip(frames, expected, strict=True):
        assert list(got) == list(real)
        assert without_ids(got) == without_ids(real)
    # One run id for the team, one per member run, consistent across its frames.
    member_runs = {d["run_id"] for _, d in frames if "agent_id" in d}
    assert len(member_runs) == len({d["run_id"] for _, d in expected if "agent_id" in d})


def nested_ids(frames: list[tuple[str, dict]]) -> dict[str, set[str]]:
    """Every place a stream names its team run, its member run and its session."""
    completed = frames[-1][1]
    members = [d for _, d in frames if "agent_id" in d]
    member_completed = next(d for e, d in frames if e == "RunCompleted")
    tool = next(d["tool"] for e, d in frames if e == "TeamToolCallCompleted")
    return {
        "team run": {d["run_id"] for _, d in frames if "agent_id" not in d}
        | {d["parent_run_id"] for d in members}
        | {r["parent_run_id"] for r in completed["member_responses"]},
        "member run": {d["run_id"] for d in members}
        | {tool["child_run_id"], member_completed["session_state"]["current_run_id"]}
        | {r["run_id"] for r in completed["member_responses"]},
        "session": {d["session_id"] for _, d in frames}
        | {member_completed["session_state"]["current_session_id"]}
        | {r["session_id"] for r in completed["member_responses"]},
    }


def test_a_replay_names_its_own_runs_everywhere_the_recording_named_its_runs(tmp_path: Path) -> None:
    (tmp_path / "recorded.yaml").write_text(recorded_scenario("a_stream_true"))
    recorded = nested_ids(capture_frames("a_stream_true"))
    with run_server(Settings(scenarios=tmp_path, speed=0)) as url:
        response = httpx.post(f"{url}/teams/research-team/runs", data={"message": "hi", "session_id": "s-1"})
        frames = parse_sse(response.content)
        session = httpx.get(f"{url}/sessions/s-1/runs", params={"type": "team"}).json()
    ids = nested_ids(frames)
    assert {name: len(values) for name, values in ids.items()} == {"team run": 1, "member run": 1, "session": 1}
    assert ids["session"] == {"s-1"}
    assert not (set().union(*ids.values()) & set().union(*recorded.values()))
    assert [(r["run_id"], r.get("parent_run_id")) for r in session] == [
        (*ids["member run"], *ids["team run"]),
        (*ids["team run"], ""),
    ]


def test_the_first_events_delay_is_a_wait_before_the_head_and_scales_with_the_speed(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(
        "version: 1\nteam: {id: t, name: T}\nscenarios:\n  - name: s\n    events:\n"
        "      - {event: TeamRunStarted, delay: 400ms}\n      - {event: TeamRunCompleted, delay: 0ms}\n"
    )
    with run_server(Settings(scenarios=tmp_path, speed=1)) as url, httpx.Client() as client:
        heads = []
        for speed in ("1", "4"):
            started = time.monotonic()
            with client.stream("POST", f"{url}/teams/t/runs", data={"message": "m"}, headers={"X-Mock-Speed": speed}):
                heads.append(time.monotonic() - started)
    assert 0.4 <= heads[0] < 0.6
    assert 0.1 <= heads[1] <= heads[0] - 0.2
