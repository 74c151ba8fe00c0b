"""A recorded real stream, stored as `event:` items, replays losslessly."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
import yaml

from mockserver.settings import Settings
from tests.conftest import capture_frames, parse_sse, run_server

ENVELOPE_IDS = ("run_id", "session_id", "parent_run_id", "created_at")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def recorded_scenario(capture: str) -> str:
    events = [{"event": name, **{k: v for k, v in data.items() if k != "event"}} for name, data in capture_frames(capture)]
    document = {
        "version": 1,
        "team": {"id": "research-team", "name": "Research Team", "members": [{"id": "researcher", "name": "Researcher"}, {"id": "writer", "name": "Writer"}]},
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
    for (_, got), (_, real) in zip(frames, expected):
        assert list(got) == list(real)
        assert without_ids(got) == without_ids(real)
    # One run id for the team, one per member run, consistent across its frames.
    member_runs = {d["run_id"] for _, d in frames if "agent_id" in d}
    assert len(member_runs) == len({d["run_id"] for _, d in expected if "agent_id" in d})
