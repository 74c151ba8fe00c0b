"""agno's own Python client, unchanged, against the mock: the first client that must work."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from agno.client import AgentOSClient
from agno.run import agent, team
from agno.run.agent import RunOutput
from agno.run.team import TeamRunOutput
from agno.utils.http import aclose_default_clients

from tests.conftest import parse_sse


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
    raw = parse_sse(httpx.post(f"{shipped_url}/teams/research-team/runs", data={"message": "How do solar panels work?"}).content)
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
