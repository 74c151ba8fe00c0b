"""The timeline a journal entry keeps of its run: one row per frame sent, lanes, tool calls, fault marks."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import httpx

from mockserver.settings import Settings
from tests.conftest import parse_sse, run_server


def _last_entry(client: httpx.Client) -> dict[str, Any]:
    return client.get("/__mock/requests", params={"limit": 1}).json()[0]


def test_a_team_run_has_one_row_per_frame_in_team_and_member_lanes(shipped_url: str) -> None:
    with httpx.Client(base_url=shipped_url, timeout=10) as client:
        response = client.post("/teams/research-team/runs", data={"message": "timeline please"})
        sent = parse_sse(response.content)
        timeline = _last_entry(client)["timeline"]
    assert timeline["columns"] == ["at_ms", "event", "lane", "text", "call"]
    rows = timeline["frames"]
    assert [row[1] for row in rows] == [event for event, _ in sent]
    assert timeline["planned"] == len(sent) and timeline["marks"] == []
    assert {row[2] for row in rows} == {"team", "researcher", "writer"}
    tools = [row for row in rows if row[1] == "ToolCallStarted"]
    assert tools and all(row[2] == "researcher" and row[3] == "web_search" and row[4] for row in tools)
    completed = {row[4] for row in rows if row[1] == "ToolCallCompleted"}
    assert {row[4] for row in tools} == completed, "each started call has its completed row"
    content = "".join(row[3] for row in rows if row[1] == "TeamRunContent" and row[3])
    expected = "".join(d["content"] for e, d in sent if e == "TeamRunContent" and len(d["content"]) < 160)
    assert expected and expected in content


HELD_TEAM = """\
version: 1
team: {id: held-team, name: Held Team}
scenarios:
  - name: answer
    events:
      - text: "one two three four five six"
faults:
  - stall: 300ms
    after: 3
"""


def test_a_hold_shifts_the_frames_after_it_and_is_marked(tmp_path: Path) -> None:
    (tmp_path / "held-team.yaml").write_text(HELD_TEAM)
    with run_server(Settings(scenarios=tmp_path, speed=0)) as url, httpx.Client(base_url=url, timeout=10) as client:
        client.post("/teams/held-team/runs", data={"message": "hi"})
        entry = _last_entry(client)
    timeline = entry["timeline"]
    assert entry["fault"] == "stall" and entry["ending"] == "completed"
    assert timeline["marks"] == [{"kind": "hold", "at_ms": 0.0, "ms": 300.0, "frame": 3}]
    times = [row[0] for row in timeline["frames"]]
    assert max(times[:3]) < 300 <= min(times[3:])


def test_a_cut_is_marked_after_the_last_frame_sent(shipped_url: str) -> None:
    with httpx.Client(base_url=shipped_url, timeout=10) as client:
        with contextlib.suppress(httpx.HTTPError):
            client.post("/teams/error-drop/runs", data={"message": "cut"})
        entry = _last_entry(client)
    assert entry["ending"] == "dropped"
    assert len(entry["timeline"]["frames"]) == 5
    assert entry["timeline"]["marks"] == [{"kind": "cut", "at_ms": 0.0, "frame": 5}]
