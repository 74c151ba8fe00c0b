"""agno's own Python client, unchanged, against the mock: the first client that must work."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from agno.client import AgentOSClient
from agno.run import agent, team
from agno.run.agent import RunOutput
from agno.run.team import TeamRunOutput
from agno.utils.http import aclose_default_clients

from mockserver.settings import Settings
from tests.conftest import parse_sse, run_server


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """One loop for the module: agno's client keeps a shared httpx client bound to its first loop."""
    loop = asyncio.new_event_loop()
    yield loop
    # Close that shared client on its own loop: left open, it is closed later from another loop
    # (a real AgentOS's shutdown does so), which leaks its sockets.
    loop.run_until_complete(aclose_default_clients())
    loop.close()


def test_run_team_stream_yields_every_frame_as_a_typed_event(shipped_url: str, loop: asyncio.AbstractEventLoop) -> None:
    async def collect() -> list:
        client = AgentOSClient(base_url=shipped_url)
        return [event async for event in client.run_team_stream("research-team", "How do solar panels work?")]

    events = loop.run_until_complete(collect())
    raw = parse_sse(
        httpx.post(f"{shipped_url}/teams/research-team/runs", data={"message": "How do solar panels work?"}).content
    )
    assert [e.event for e in events] == [name for name, _ in raw]  # none dropped
    assert any(isinstance(e, agent.RunContentEvent) for e in events)
    content = "".join(e.content for e in events if isinstance(e, team.RunContentEvent))
    completed = events[-1]
    assert isinstance(completed, team.RunCompletedEvent)
    assert completed.content == content and "## What I found" in content
    assert completed.member_responses and isinstance(completed.member_responses[0], RunOutput)


def test_run_team_returns_a_team_run_output(shipped_url: str, loop: asyncio.AbstractEventLoop) -> None:
    async def call() -> TeamRunOutput:
        client = AgentOSClient(base_url=shipped_url)
        return await client.run_team("topic-team", "what is the weather in Oslo?", session_id="s-42", user_id="ada")

    output = loop.run_until_complete(call())
    assert isinstance(output, TeamRunOutput)
    assert output.status == "COMPLETED" and output.session_id == "s-42"
    assert "18 °C" in output.content
    assert output.tools and output.tools[0].tool_name == "get_weather"


SLOW_TEAM = """\
version: 1
team: {id: research-team, name: Research Team, model: {id: fake-model-1, provider: Fake}}
scenarios:
  - name: slow
    gap: 0
    pace: 20 words/s
    events:
      - text: slow chunk 00. slow chunk 01. slow chunk 02. slow chunk 03. slow chunk 04. slow chunk 05.
"""


def test_lists_sessions_reads_runs_and_resumes_a_dropped_background_run(
    tmp_path: Path, loop: asyncio.AbstractEventLoop
) -> None:
    """agno's client has no resume method: its own form-post stream and SSE parser do it."""
    (tmp_path / "research-team.yaml").write_text(SLOW_TEAM)

    async def steps(url: str) -> tuple[list[Any], list[Any], list[Any]]:
        client = AgentOSClient(base_url=url)
        started: list[Any] = []
        stream = client.run_team_stream("research-team", "slow", session_id="C1", user_id="ada", background=True)
        async with contextlib.aclosing(stream):  # closing it hangs up the connection
            async for event in stream:
                started.append(event)
                if len(started) == 3:
                    break
        raw = client._astream_post_form_data(
            f"/teams/research-team/runs/{started[0].run_id}/resume",
            {"last_event_index": str(started[-1].event_index), "session_id": "C1"},
        )
        resumed = [e async for e in client._parse_sse_events(raw, team.team_run_output_event_from_dict)]
        sessions = await client.get_sessions(user_id="ada")
        runs = await client.get_session_runs("C1", user_id="ada")
        return started + resumed, sessions.data, runs

    with run_server(Settings(scenarios=tmp_path, speed=1)) as url:
        events, sessions, runs = loop.run_until_complete(steps(url))
    typed = [e for e in events if isinstance(e, team.BaseTeamRunEvent)]
    assert isinstance(typed[-1], team.RunCompletedEvent)
    content = "".join(e.content for e in typed if isinstance(e, team.RunContentEvent))
    assert content == typed[-1].content, "no delta lost or repeated across the drop"
    assert [s.session_id for s in sessions] == ["C1"]
    assert [r.run_id for r in runs] == [typed[0].run_id]
