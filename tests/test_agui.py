"""AG-UI: the mock's mapping equals agno 3.1.10's own, and a real server keeps timing and faults.

The oracle is agno itself: the frames of a plan, parsed back into agno's event objects, go
through `agno.os.interfaces.agui.stream` and `ag_ui`'s `EventEncoder`, exactly what a real
AgentOS with `AGUI(team=...)` does with its team's events.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import httpx
import pytest
from ag_ui.core import EventType, RunStartedEvent, StateSnapshotEvent
from ag_ui.encoder import EventEncoder
from agno.os.interfaces.agui.stream import stream_agno_response_as_agui_events
from agno.reasoning.step import ReasoningStep
from agno.run.team import team_run_output_event_from_dict

from mockserver.agentos.cancel import cancel_frames
from mockserver.agentos.expand import build_plan
from mockserver.agentos.fold import fold
from mockserver.run.faults import with_run_error
from mockserver.run.plan import Frame, Plan, RunContext
from mockserver.run.stamp import Stamp
from mockserver.scenarios.faultrules import RunError
from mockserver.scenarios.loader import load_directory
from mockserver.settings import Settings
from mockserver.wire.agui import AGUIEvents
from tests.conftest import SHIPPED, TEST_SCENARIOS, run_server
from tests.node_clients import node_script

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def parse_agui(body: bytes) -> list[dict[str, Any]]:
    """The events of an AG-UI stream; asserts `data:`-only framing, comments aside."""
    text = body.decode()
    assert text.endswith("\n\n")
    events = []
    for block in text.split("\n\n")[:-1]:
        if block.startswith(":"):
            continue
        assert block.startswith("data: ") and "\n" not in block, block
        events.append(json.loads(block[6:]))
    return events


def ours(plan: Plan, state: dict[str, Any] | None) -> list[dict[str, Any]]:
    encoder = AGUIEvents("thread-1", "run-1", state)
    return parse_agui(encoder.frames(plan.frames) + encoder.end(plan, fold(plan.frames)))


def agnos(frames: Sequence[Frame], state: dict[str, Any] | None) -> list[dict[str, Any]]:
    datas = [json.loads(json.dumps(frame.data)) for frame in frames]
    for data in datas:
        if state is not None and isinstance(data.get("session_state"), dict):
            # A real run starts from the client's state, so its completion reports it too.
            data["session_state"] = {**state, **data["session_state"]}
    chunks = [team_run_output_event_from_dict(data) for data in datas]
    for chunk in chunks:
        if str(chunk.event).endswith("ReasoningStep") and isinstance(chunk.content, dict):
            chunk.content = ReasoningStep(**chunk.content)  # what the real run holds
    events: list[Any] = [RunStartedEvent(type=EventType.RUN_STARTED, thread_id="thread-1", run_id="run-1")]
    if state is not None:  # router.run_entity sends these two before the stream's own events
        events.append(StateSnapshotEvent(type=EventType.STATE_SNAPSHOT, snapshot=state))
    events += stream_agno_response_as_agui_events(iter(chunks), "thread-1", "run-1", state)
    encoder = EventEncoder()
    return [json.loads(encoder.encode(event)[6:]) for event in events]


def normalised(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Message ids numbered in order of appearance (agno draws uuid4s; the mock derives them)."""
    seen: dict[str, str] = {}
    text = UUID.sub(lambda m: seen.setdefault(m.group(0), f"id-{len(seen)}"), json.dumps(events))
    return json.loads(text)


def _plans() -> Iterator[tuple[Plan, str]]:
    for directory in (SHIPPED, TEST_SCENARIOS):
        for team in load_directory(directory).teams.values():
            for scenario in team.scenarios:
                context = RunContext(
                    team=team, scenario=scenario, message="hello", session_id="thread-1", run_id="run-1"
                )
                stamp = Stamp(context)  # the run's own ids and times, as the pipeline puts them in
                plan = build_plan(context, speed=0)
                yield stamp.plan(plan), f"{team.id}/{scenario.name}"
                if len(plan.frames) > 4:
                    failed = with_run_error(plan, len(plan.frames) // 2, RunError("boom", "ModelProviderError", None))
                    yield stamp.plan(failed), f"{team.id}/{scenario.name}/error"
                    head = plan.frames[: len(plan.frames) // 2]
                    cut = replace(plan, frames=(*head, *cancel_frames(plan, fold(head), head[-1].at)))
                    yield stamp.plan(cut), f"{team.id}/{scenario.name}/cancelled"


CASES = list(_plans())


@pytest.mark.parametrize("state", [None, {"cart": ["apple"], "step": 1}], ids=["no-state", "state"])
@pytest.mark.parametrize(("plan", "name"), CASES, ids=[name for _, name in CASES])
def test_every_scenario_maps_as_agnos_agui_interface_maps_it(
    plan: Plan, name: str, state: dict[str, Any] | None
) -> None:
    mine, theirs = normalised(ours(plan, state)), normalised(agnos(plan.frames, state))
    for event in theirs:
        if event["type"] == "CUSTOM":
            # agno's client-side parser reads a team CustomEvent with the agent class, so the
            # oracle's value loses the team envelope; the real server sends the event it made.
            event["value"] = next(e for e in mine if e["type"] == "CUSTOM")["value"]
    assert [list(event) for event in mine] == [list(event) for event in theirs]  # keys and their order
    assert mine == theirs


def test_research_team_covers_every_mapped_event() -> None:
    plan = next(plan for plan, name in CASES if name == "research-team/research")
    kinds = {event["type"] for event in ours(plan, {"x": 1})}
    assert kinds >= {
        "RUN_STARTED",
        "STATE_SNAPSHOT",
        "RAW",
        "REASONING_START",
        "REASONING_MESSAGE_START",
        "REASONING_MESSAGE_CONTENT",
        "REASONING_MESSAGE_END",
        "REASONING_END",
        "TEXT_MESSAGE_START",
        "TEXT_MESSAGE_CONTENT",
        "TEXT_MESSAGE_END",
        "TOOL_CALL_START",
        "TOOL_CALL_ARGS",
        "TOOL_CALL_END",
        "TOOL_CALL_RESULT",
        "RUN_FINISHED",
    }


# -- over HTTP ---------------------------------------------------------------------------------


def run_input(message: str, **extra: Any) -> dict[str, Any]:
    return {
        "threadId": "thread-1",
        "runId": "run-1",
        "state": None,
        "tools": [],
        "context": [],
        "messages": [{"id": "m1", "role": "user", "content": message}],
        **extra,
    }


def test_agui_streams_the_team_named_in_the_path(shipped_url: str) -> None:
    response = httpx.post(f"{shipped_url}/teams/quick-team/agui", json=run_input("hi there"), timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_agui(response.content)
    assert events[0] == {"type": "RUN_STARTED", "threadId": "thread-1", "runId": "run-1"}
    assert events[-1] == {"type": "RUN_FINISHED", "threadId": "thread-1", "runId": "run-1"}
    text = "".join(e["delta"] for e in events if e["type"] == "TEXT_MESSAGE_CONTENT")
    assert text == 'Hi! You said "hi there". This is a quick reply from Quick Team.'


def test_agui_run_is_stored_in_the_thread_session(shipped_url: str) -> None:
    body = run_input("remember me", threadId="agui-thread-7", runId="agui-run-7")
    assert httpx.post(f"{shipped_url}/teams/quick-team/agui", json=body, timeout=10).status_code == 200
    runs = httpx.get(f"{shipped_url}/sessions/agui-thread-7/runs", params={"type": "team"}, timeout=10).json()
    assert [run["run_id"] for run in runs] == ["agui-run-7"]


def test_agui_picks_the_team_from_forwarded_props_or_the_default() -> None:
    with run_server(Settings(scenarios=SHIPPED, speed=0, agui_default="research-team")) as url:
        named = httpx.post(f"{url}/agui", json=run_input("hi", forwardedProps={"team_id": "quick-team"}), timeout=10)
        default = httpx.post(f"{url}/agui", json=run_input("hi"), timeout=10)
    assert parse_agui(named.content)[1]["event"]["team_id"] == "quick-team"
    assert parse_agui(default.content)[1]["event"]["team_id"] == "research-team"


@pytest.mark.parametrize(
    ("path", "body", "status", "detail"),
    [
        ("/agui", run_input("hi"), 400, "No team named: pass forwardedProps.team_id or start with --agui-default"),
        ("/teams/nope/agui", run_input("hi"), 404, "Team not found"),
        ("/agui", run_input("hi", forwardedProps={"team_id": "nope"}), 404, "Team not found"),
        ("/teams/quick-team/agui", {"runId": "r", "messages": []}, 422, "threadId: Field required"),
        (
            "/teams/quick-team/agui",
            {"threadId": "t", "runId": 5, "messages": []},
            422,
            "runId: Input should be a valid string",
        ),
        (
            "/teams/quick-team/agui",
            {"threadId": "t", "runId": "r", "messages": [{}]},
            422,
            "messages.0: Input should have a 'role'",
        ),
        ("/teams/quick-team/agui", [1, 2], 422, "body: Input should be a JSON object"),
    ],
)
def test_agui_bad_requests_get_a_json_4xx(shipped_url: str, path: str, body: Any, status: int, detail: str) -> None:
    response = httpx.post(f"{shipped_url}{path}", json=body, timeout=10)
    assert response.status_code == status
    assert response.json()["detail"].startswith(detail)


def test_agui_body_that_is_not_json_is_a_422(shipped_url: str) -> None:
    response = httpx.post(f"{shipped_url}/teams/quick-team/agui", content=b"{not json", timeout=10)
    assert response.status_code == 422
    assert response.json()["error_code"] == "VALIDATION_ERROR"


def test_agui_body_over_the_json_limit_is_a_413() -> None:
    with run_server(Settings(scenarios=SHIPPED, speed=0, max_json_size=100)) as url:
        response = httpx.post(f"{url}/teams/quick-team/agui", json=run_input("x" * 200), timeout=10)
    assert response.status_code == 413
    assert "--max-json-size" in response.json()["detail"]


def test_agui_status(shipped_url: str) -> None:
    assert httpx.get(f"{shipped_url}/status", timeout=10).json() == {"status": "available"}


def test_agui_honours_the_scenario_timing() -> None:
    with run_server(Settings(scenarios=TEST_SCENARIOS, speed=1)) as url:
        arrivals = []
        start = time.monotonic()
        with httpx.stream("POST", f"{url}/teams/timing-team/agui", json=run_input("go"), timeout=10) as response:
            for line in response.iter_lines():
                if line.startswith("data: ") and json.loads(line[6:])["type"] == "TEXT_MESSAGE_CONTENT":
                    arrivals.append(time.monotonic() - start)
    assert len(arrivals) == 10
    # ten words 50 ms apart after a 50 ms gap: each is due at a fixed offset from the start, so a
    # busy machine can make them late (and bunch them) but never early
    assert arrivals[-1] >= 0.5 and arrivals[0] < arrivals[-1]


def test_agui_midstream_error_is_run_error(shipped_url: str) -> None:
    response = httpx.post(f"{shipped_url}/teams/error-midstream/agui", json=run_input("hi"), timeout=10)
    assert response.status_code == 200
    events = parse_agui(response.content)
    assert [e["type"] for e in events[-2:]] == ["TEXT_MESSAGE_END", "RUN_ERROR"]
    error = events[-1]
    assert error["message"] == "Model provider error: the upstream model returned 500 (overloaded)"
    assert error["code"] == "ModelProviderError"
    assert error["rawEvent"]["event"] == "TeamRunError"
    assert not any(e["type"] == "RUN_FINISHED" for e in events)


def test_agui_cancelled_run_finishes(shipped_url: str) -> None:
    events = parse_agui(
        httpx.post(f"{shipped_url}/teams/error-cancelled/agui", json=run_input("hi"), timeout=10).content
    )
    assert [e["event"]["event"] for e in events if e["type"] == "RAW"][-1] == "TeamRunCancelled"
    assert events[-1]["type"] == "RUN_FINISHED"


def test_agui_http_status_fault_stays_an_http_status(shipped_url: str) -> None:
    response = httpx.post(f"{shipped_url}/teams/error-429/agui", json=run_input("hi"), timeout=10)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "30"
    assert response.json() == {"detail": "Rate limit exceeded, retry in 30 seconds", "error_code": "RATE_LIMITED"}


def test_agui_drop_cuts_the_connection(shipped_url: str) -> None:
    received = b""
    with httpx.stream("POST", f"{shipped_url}/teams/error-drop/agui", json=run_input("hi"), timeout=10) as response:
        assert response.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            for chunk in response.iter_raw():
                received += chunk
    assert parse_agui(received)[0]["type"] == "RUN_STARTED"
    assert b"RUN_FINISHED" not in received and b"RUN_ERROR" not in received


def test_agui_answers_cors_preflight_from_a_dev_server(shipped_url: str) -> None:
    response = httpx.options(
        f"{shipped_url}/agui",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=10,
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"


# -- the real @ag-ui/client ----------------------------------------------------------------------


def test_agui_http_agent_from_node_receives_valid_events_and_the_answer(shipped_url: str) -> None:
    result = node_script("agui.mjs", f"{shipped_url}/agui", "hi there", json.dumps({"team_id": "quick-team"}))
    assert result["failure"] is None
    assert result["invalid"] == []
    assert result["events"][0] == "RUN_STARTED" and result["events"][-1] == "RUN_FINISHED"
    answer = [m for m in result["messages"] if m["role"] == "assistant"]
    assert [m["content"] for m in answer] == ['Hi! You said "hi there". This is a quick reply from Quick Team.']


def test_agui_http_agent_from_node_assembles_reasoning_tools_and_results(shipped_url: str) -> None:
    result = node_script("agui.mjs", f"{shipped_url}/teams/research-team/agui", "streaming UIs")
    assert result["failure"] is None and result["invalid"] == []
    messages = result["messages"]
    calls = [call["function"]["name"] for m in messages if m["role"] == "assistant" for call in m.get("toolCalls", [])]
    assert calls == ["delegate_task_to_member", "web_search", "delegate_task_to_member"]
    assert sum(1 for m in messages if m["role"] == "tool") == 3
    assert any(m["role"] == "reasoning" and "Step 1: Understand the question" in m["content"] for m in messages)
    # agno folds member text into the same stream: the last message holds the writer's draft, then the answer
    assert messages[-1]["content"].endswith("> Research by the Researcher, words by the Writer, run `node-run`.\n")


def test_agui_http_agent_from_node_sees_the_run_error(shipped_url: str) -> None:
    result = node_script("agui.mjs", f"{shipped_url}/teams/error-midstream/agui")
    assert result["invalid"] == []
    assert result["events"][-1] == "RUN_ERROR"
