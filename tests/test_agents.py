"""Stand-alone agents: a scenario file with `agent:` answers as a real AgentOS 3.1.10 agent does.

The references are `tests/captures/agentos-3.1.10-agent/` (`python -m tests.capture_agent`):
event names, keys and key order of every frame and body the mock sends for an agent.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from agno.client import AgentOSClient
from agno.run import agent as agent_events
from agno.run.agent import RunOutput
from agno.utils.http import aclose_default_clients

from mockserver.scenarios.loader import ScenarioError, load_text
from mockserver.settings import Settings
from tests.conftest import SHIPPED, parse_sse, run_server

AGENT_CAPTURES = Path(__file__).resolve().parent / "captures" / "agentos-3.1.10-agent"
FAULTY_AGENT = """
version: 1
agent: {id: faulty-agent, name: Faulty Agent, description: Fails on demand}
scenarios:
  - name: slow
    events:
      - text: "one two three four five six seven eight nine ten"
        pace: 50ms per word
faults:
  - error: "FakeModel was asked to fail"
    error_type: RuntimeError
    match: fail
    after: 1
  - cancel: true
    match: cancel
    after: 3
  - status: 503
    match: busy
"""


def captured(name: str) -> bytes:
    return (AGENT_CAPTURES / f"{name}.body").read_bytes()


def keys_by_event(frames: list[tuple[str, dict[str, Any]]]) -> dict[str, list[str]]:
    """Each event's keys in order, from its first frame (every later one has the same)."""
    seen: dict[str, list[str]] = {}
    for name, data in frames:
        seen.setdefault(name, list(data))
    return seen


def collapsed(names: list[str]) -> list[str]:
    """Event names with runs of RunContent folded into one (the number of deltas differs)."""
    return [n for i, n in enumerate(names) if not (n == "RunContent" and i and names[i - 1] == "RunContent")]


@pytest.fixture(scope="module")
def faulty_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("agents")
    (folder / "faulty-agent.yaml").write_text(FAULTY_AGENT)
    (folder / "assistant-agent.yaml").write_text((SHIPPED / "assistant-agent.yaml").read_text())
    with run_server(Settings(scenarios=folder, speed=0, error_format="agentos")) as url:
        yield url


def test_agent_stream_matches_the_real_agent_frames(shipped_url: str) -> None:
    mine = parse_sse(httpx.post(f"{shipped_url}/agents/assistant/runs", data={"message": "France"}).content)
    real = parse_sse(captured("g3_agent_stream_lookup"))
    assert collapsed([n for n, _ in mine]) == collapsed([n for n, _ in real])
    assert keys_by_event(mine) == keys_by_event(real)
    assert all(data["event"] == name and "parent_run_id" not in data for name, data in mine)
    assert mine[0][1]["agent_id"] == "assistant" and mine[0][1]["agent_name"] == "Assistant"
    completed = mine[-1][1]
    assert completed["content"] == "".join(d["content"] for n, d in mine if n == "RunContent")
    assert list(completed["metrics"]) == list(real[-1][1]["metrics"])


def test_agent_run_without_streaming_matches_the_real_run_output(shipped_url: str) -> None:
    response = httpx.post(f"{shipped_url}/agents/assistant/runs", data={"message": "France", "stream": "false"})
    assert response.status_code == 200
    mine, real = response.json(), json.loads(captured("g4_agent_nonstream_lookup"))
    assert list(mine) == list(real)
    assert [m["role"] for m in mine["messages"]] == [m["role"] for m in real["messages"]]
    assert [list(m) for m in mine["messages"]] == [list(m) for m in real["messages"]]
    assert mine["messages"][0]["content"] == "A helpful assistant that looks facts up before it answers."
    assert mine["status"] == "COMPLETED" and mine["tools"][0]["tool_name"] == "lookup_fact"


def test_agent_discovery_matches_the_real_agents(shipped_url: str) -> None:
    agents = httpx.get(f"{shipped_url}/agents").json()
    real = json.loads(captured("g1_agents"))
    assert [list(a) for a in agents] == [list(a) for a in real]
    assert [a["id"] for a in agents] == ["assistant"]
    one = httpx.get(f"{shipped_url}/agents/assistant").json()
    assert one == agents[0]
    assert [t["name"] for t in one["tools"]["tools"]] == ["lookup_fact"]
    assert "assistant" not in [t["id"] for t in httpx.get(f"{shipped_url}/teams").json()]


def test_unknown_agent_is_a_404_as_agentos_words_it(faulty_url: str) -> None:
    for response in (
        httpx.get(f"{faulty_url}/agents/nope"),
        httpx.post(f"{faulty_url}/agents/nope/runs", data={"message": "hi"}),
    ):
        assert response.status_code == 404
        assert response.content == captured("g7_agent_unknown_run")


def test_agent_run_error_matches_the_real_one(faulty_url: str) -> None:
    frames = parse_sse(httpx.post(f"{faulty_url}/agents/faulty-agent/runs", data={"message": "fail"}).content)
    real = parse_sse(captured("g5_agent_stream_fail"))
    assert frames[-1][0] == "RunError"
    assert list(frames[-1][1]) == list(real[-1][1])
    assert frames[-1][1]["content"] == "FakeModel was asked to fail" and frames[-1][1]["error_type"] == "RuntimeError"
    body = httpx.post(f"{faulty_url}/agents/faulty-agent/runs", data={"message": "fail", "stream": "false"}).json()
    assert list(body) == list(json.loads(captured("g5_agent_nonstream_fail")))
    assert body["status"] == "ERROR"


def test_agent_cancel_matches_the_real_pair(faulty_url: str) -> None:
    frames = parse_sse(httpx.post(f"{faulty_url}/agents/faulty-agent/runs", data={"message": "cancel"}).content)
    real = parse_sse(captured("g6_agent_cancel_stream"))
    assert [n for n, _ in frames[-2:]] == ["RunCancelled", "RunCompleted"] == [n for n, _ in real[-2:]]
    assert [list(d) for _, d in frames[-2:]] == [list(d) for _, d in real[-2:]]
    run_id = frames[0][1]["run_id"]
    assert frames[-2][1]["reason"] == f"Run {run_id} was cancelled"


def test_cancel_endpoint_of_an_agent(faulty_url: str) -> None:
    assert httpx.post(f"{faulty_url}/agents/faulty-agent/runs/any-run/cancel").json() == {}
    assert httpx.post(f"{faulty_url}/agents/nope/runs/any-run/cancel").status_code == 404


def test_agent_http_fault_stays_an_http_status(faulty_url: str) -> None:
    response = httpx.post(f"{faulty_url}/agents/faulty-agent/runs", data={"message": "busy"})
    assert response.status_code == 503


def test_agno_client_run_agent_stream_and_run_agent(shipped_url: str) -> None:
    async def both() -> tuple[list[Any], RunOutput]:
        client = AgentOSClient(base_url=shipped_url)
        events = [event async for event in client.run_agent_stream("assistant", "France")]
        output = await client.run_agent("assistant", "France", session_id="agent-s-1")
        # agno's client shares one httpx client bound to the loop it first ran on: close it with
        # this loop, so the next test's loop gets a fresh one.
        await aclose_default_clients()
        return events, output

    loop = asyncio.new_event_loop()
    try:
        events, output = loop.run_until_complete(both())
    finally:
        loop.close()
    assert isinstance(events[0], agent_events.RunStartedEvent)
    assert isinstance(events[-1], agent_events.RunCompletedEvent)
    assert any(isinstance(e, agent_events.ToolCallCompletedEvent) for e in events)
    assert events[-1].content.startswith("According to lookup_fact")
    assert isinstance(output, RunOutput)
    assert output.status == "COMPLETED" and output.agent_id == "assistant" and output.session_id == "agent-s-1"
    assert output.content == events[-1].content


def test_agent_over_agui_and_the_ai_sdk(shipped_url: str) -> None:
    body = {"threadId": "t", "runId": "r", "messages": [{"id": "1", "role": "user", "content": "France"}]}
    agui = httpx.post(f"{shipped_url}/agents/assistant/agui", json=body).text
    assert '"type":"TOOL_CALL_START"' in agui and agui.rstrip().endswith(
        '"type":"RUN_FINISHED","threadId":"t","runId":"r"}'
    )
    chat = {"id": "c", "messages": [{"id": "1", "role": "user", "parts": [{"type": "text", "text": "France"}]}]}
    parts = [
        json.loads(line[6:])
        for line in httpx.post(f"{shipped_url}/api/chat?agent=assistant", json=chat).text.split("\n\n")
        if line.startswith("data: {")
    ]
    assert [p["toolName"] for p in parts if p["type"] == "tool-input-available"] == ["lookup_fact"]
    assert not any(p["type"].startswith("data-") for p in parts)  # the agent's own events are the message
    assert parts[-1] == {"type": "finish", "finishReason": "stop"}


def test_an_agent_cannot_delegate() -> None:
    text = """
version: 1
agent: {id: lonely}
scenarios:
  - name: s
    events:
      - delegate: someone
        events: [{text: hi}]
"""
    with pytest.raises(ScenarioError, match="an agent cannot delegate"):
        load_text(text, "lonely.yaml")


def test_a_file_is_a_team_or_an_agent() -> None:
    text = "version: 1\nteam: {id: a}\nagent: {id: b}\nscenarios: [{name: s, events: [{text: hi}]}]\n"
    with pytest.raises(ScenarioError, match="a team or an agent, not both"):
        load_text(text, "both.yaml")


def test_agent_session_is_stored_as_a_real_agent_session(faulty_url: str) -> None:
    session = "agent-session-keys"
    httpx.post(f"{faulty_url}/agents/assistant/runs", data={"message": "France", "session_id": session})
    httpx.post(
        f"{faulty_url}/agents/assistant/runs", data={"message": "Spain", "session_id": session, "stream": "false"}
    )
    runs = httpx.get(f"{faulty_url}/sessions/{session}/runs", params={"type": "agent"}).json()
    real_runs = json.loads(captured("g8_agent_session_runs"))
    assert [list(r) for r in runs] == [list(r) for r in real_runs]  # streamed runs keep events, the other not
    assert [e["event"] for e in runs[0]["events"]] == [e["event"] for e in real_runs[0]["events"]]
    assert [m["role"] for m in runs[0]["messages"]] == [m["role"] for m in real_runs[0]["messages"]]

    detail = httpx.get(f"{faulty_url}/sessions/{session}", params={"type": "agent"}).json()
    real_detail = json.loads(captured("g8_agent_session"))
    assert list(detail) == list(real_detail)
    assert list(detail["agent_data"]) == list(real_detail["agent_data"])
    assert [m["role"] for m in detail["chat_history"]] == [m["role"] for m in real_detail["chat_history"]]

    listed = httpx.get(f"{faulty_url}/sessions", params={"type": "agent", "component_id": "assistant"}).json()
    real_listed = json.loads(captured("g8_agent_sessions"))
    mine = next(s for s in listed["data"] if s["session_id"] == session)
    assert list(mine) == list(real_listed["data"][0])
    assert mine["session_type"] == "agent" and mine["agent_id"] == "assistant"
    assert session not in [
        s["session_id"] for s in httpx.get(f"{faulty_url}/sessions", params={"type": "team"}).json()["data"]
    ]
    assert httpx.get(f"{faulty_url}/sessions/{session}", params={"type": "team"}).status_code == 404
