"""`parallel:` groups: the calls of one model response, played as agno 3.1.10 plays them (p1)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.agentos.expand import build_plan
from mockserver.run.plan import RunContext
from mockserver.scenarios.loader import ScenarioError, load_text
from mockserver.settings import Settings
from tests.conftest import parse_sse, run_server
from tests.slow_team import reading

FIDELITY = Path(__file__).resolve().parent / "captures" / "agentos-3.1.10-fidelity"

TEAM = """\
version: 1
team:
  id: research-team
  name: Research Team
  members:
    - {id: researcher, name: Researcher, role: Looks things up}
    - {id: writer, name: Writer, role: Writes}
scenarios:
  - name: slow
    match: cancel
    gap: 10ms
    pace: 20 words/s
    events:
      - parallel:
          - delegate: researcher
            task: Look up France.
            events:
              - tool: lookup_fact
                args: {topic: France}
                result: Paris
              - text: The capital is Paris.
          - delegate: writer
            task: Write it.
            events:
              - text: w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19
      - text: Done.
  - name: both
    gap: 1ms
    events:
      - parallel:
          - delegate: researcher
            task: "Look up France. [lookup]"
            events:
              - tool: lookup_fact
                args: {topic: France}
                result: Paris is the capital.
              - text: France's capital is Paris.
          - delegate: writer
            task: "Write it. [write]"
            events:
              - text: Written.
      - text: Done.
"""


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("scenarios")
    (directory / "research-team.yaml").write_text(TEAM)
    with run_server(Settings(scenarios=(directory,), speed=1)) as url:
        yield url


def _captured(name: str) -> list[tuple[str, dict[str, Any]]]:
    return parse_sse(json.loads((FIDELITY / f"{name}.json").read_text())["body"].encode())


def _who(frames: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str]]:
    return [(name, data.get("agent_id", "")) for name, data in frames]


def _post(url: str, message: str, **data: str) -> httpx.Response:
    return httpx.post(f"{url}/teams/research-team/runs", data={"message": message, **data}, timeout=10)


def test_two_parallel_delegations_play_in_the_captured_order(url: str) -> None:
    frames = parse_sse(_post(url, "both").content)
    captured = _captured("p1_parallel_delegations")
    assert _who(frames) == _who(captured)
    for event in ("TeamToolCallStarted", "TeamToolCallCompleted"):
        ours = [data for name, data in frames if name == event]
        real = [data for name, data in captured if name == event]
        assert [list(d) for d in ours] == [list(d) for d in real]
        assert [list(d["tool"]) for d in ours] == [list(d["tool"]) for d in real]
        assert [d["tool"]["tool_args"]["member_id"] for d in ours] == ["researcher", "writer"]
    runs = {data["agent_id"]: data["run_id"] for name, data in frames if name == "RunStarted"}
    completed = [data["tool"] for name, data in frames if name == "TeamToolCallCompleted"]
    assert [t["child_run_id"] for t in completed] == [runs["researcher"], runs["writer"]]
    assert [t["result"] for t in completed] == ["France's capital is Paris.", "Written."]
    assert [r["agent_id"] for r in frames[-1][1]["member_responses"]] == ["writer", "researcher"]


def test_stream_false_lists_both_tools_and_both_member_responses(url: str) -> None:
    body = _post(url, "both", stream="false").json()
    assert body["status"] == "COMPLETED" and body["content"] == "Done."
    assert [t["tool_args"]["member_id"] for t in body["tools"]] == ["researcher", "writer"]
    assert {r["agent_id"]: r["content"] for r in body["member_responses"]} == {
        "researcher": "France's capital is Paris.",
        "writer": "Written.",
    }
    [researcher] = [r for r in body["member_responses"] if r["agent_id"] == "researcher"]
    assert [t["tool_name"] for t in researcher["tools"]] == ["lookup_fact"]
    # One model response made both calls: one assistant message holds them, a tool message each.
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "tool", "tool", "assistant"]
    calls = body["messages"][2]["tool_calls"]
    assert [c["id"] for c in calls] == [t["tool_call_id"] for t in body["tools"]]


def test_a_cancel_during_the_parallel_member_runs_closes_both(url: str) -> None:
    def writer_streaming(frames: list[tuple[str, dict[str, Any]]]) -> bool:
        return sum(1 for name, data in frames if name == "RunContent" and data["agent_id"] == "writer") >= 2

    with reading(f"{url}/teams/research-team/runs", {"message": "cancel please"}) as stream:
        stream.wait_for(writer_streaming)
        run_id = stream.frames[0][1]["run_id"]
        httpx.post(f"{url}/teams/research-team/runs/{run_id}/cancel")
        frames = stream.finish()
    runs = {data["agent_id"]: data["run_id"] for name, data in frames if name == "RunStarted"}
    tail = [(name, data["run_id"]) for name, data in frames[-6:]]
    assert tail == [
        ("RunCancelled", runs["researcher"]),
        ("RunCompleted", runs["researcher"]),
        ("RunCancelled", runs["writer"]),
        ("RunCompleted", runs["writer"]),
        ("TeamRunCancelled", run_id),
        ("TeamRunCompleted", run_id),
    ]
    assert "TeamToolCallCompleted" not in [name for name, _ in frames]
    responses = frames[-1][1]["member_responses"]
    assert sorted((r["agent_id"], r["status"]) for r in responses) == [
        ("researcher", "CANCELLED"),
        ("writer", "CANCELLED"),
    ]
    session_id = frames[0][1]["session_id"]
    stored = httpx.get(f"{url}/sessions/{session_id}/runs", params={"type": "team"}).json()
    team_run = next(r for r in stored if r["run_id"] == run_id)
    assert [t.get("child_run_id") for t in team_run["tools"]] == [runs["researcher"], runs["writer"]]


MIXED = """\
version: 1
team:
  id: t
  members: [{id: m, name: M}]
scenarios:
  - name: s
    gap: 50ms
    events:
      - parallel:
          - delegate: m
            task: go
            events:
              - text: member done
          - tool: web_search
            args: {q: France}
            duration: 20ms
"""


def test_a_tool_beside_a_delegation_completes_after_it_with_its_own_duration() -> None:
    team = load_text(MIXED)
    context = RunContext(team=team, scenario=team.scenarios[0], message="x", session_id="s", run_id="r", started_at=0.0)
    frames = build_plan(context).frames
    calls = [(f.event, f.data["tool"]["tool_name"]) for f in frames if f.event.startswith("TeamToolCall")]
    assert calls == [
        ("TeamToolCallStarted", "delegate_task_to_member"),
        ("TeamToolCallStarted", "web_search"),
        ("TeamToolCallCompleted", "delegate_task_to_member"),
        ("TeamToolCallCompleted", "web_search"),
    ]
    names = [f.event for f in frames]
    assert names.index("RunCompleted") < names.index("TeamToolCallCompleted")
    search = next(f.data for f in frames if f.event == "TeamToolCallCompleted" and "web_search" in f.data["content"])
    assert search["tool"]["metrics"]["duration"] == pytest.approx(0.02)
    assert search["content"] == "web_search(q=France) completed in 0.0200s. "


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            "[{text: hi}]",
            "bad.yaml:8: scenario 's'.events[0].parallel[0]: not a call (text); "
            "expected a mapping with one of the keys tool, delegate",
        ),
        ("calls", "bad.yaml:8: scenario 's'.events[0].parallel: expected a list of tool and delegate steps"),
    ],
)
def test_a_bad_parallel_item_is_named_with_its_file_and_line(item: str, expected: str) -> None:
    text = f"""\
version: 1
team:
  id: t
  members: [{{id: m, name: M}}]
scenarios:
  - name: s
    events:
      - parallel: {item}
"""
    with pytest.raises(ScenarioError) as raised:
        load_text(text, "bad.yaml")
    assert [str(p) for p in raised.value.problems] == [expected]
