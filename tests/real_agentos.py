"""A real AgentOS 3.1.10, offline: the team of the captures, driven by a scripted model.

`run_real_agentos()` serves it on a loopback port. Each model answers from a table of scripts:
the first script whose name is a word of the latest user message (else the default), one step
per model call in that turn. The leader knows `hello`, `delegate` (the default), `slow`,
`slowmember` and `fail`; the stand-alone agent `assistant` knows `hello`, `lookup`, `slow` and
`fail`.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx

# agno reads AGNO_TELEMETRY when each agent and team is built, and it overrides their
# `telemetry=False`: set it before anything is built so no launch or run report leaves the host.
os.environ["AGNO_TELEMETRY"] = "false"

from agno.agent import Agent
from agno.db.sqlite import SqliteDb
from agno.models.base import Model
from agno.models.message import Message
from agno.models.response import ModelResponse
from agno.os import AgentOS
from agno.os.settings import AgnoAPISettings
from agno.team import Team

from tests.conftest import serve_app


@dataclass(frozen=True)
class Text:
    """Answer with these deltas, `delay` seconds apart."""

    deltas: tuple[str, ...]
    delay: float = 0.0


@dataclass(frozen=True)
class ToolCall:
    name: str
    args: Mapping[str, Any]


@dataclass(frozen=True)
class Fail:
    message: str = "FakeModel was asked to fail"


Step = Text | ToolCall | Fail
Script = tuple[Step, ...]


def slow(prefix: str, count: int = 20, delay: float = 0.1) -> Text:
    return Text(tuple(f"{prefix} {i:02d}. " for i in range(count)), delay)


HELLO = Text(("Direct answer ", "from the ", "team leader: ", "hello!"), 0.05)
FAIL: Script = (Fail(),)

LEADER: dict[str, Script] = {
    "hello": (HELLO,),
    "delegate": (
        ToolCall("delegate_task_to_member", {"member_id": "researcher", "task": "Find the capital of France."}),
        Text(("Here is ", "the Research Team's ", "answer: ", "the capital ", "of France ", "is Paris.")),
    ),
    "slowmember": (
        ToolCall(
            "delegate_task_to_member", {"member_id": "researcher", "task": "Find the capital of France. [slowmember]"}
        ),
        Text(("The researcher answered.",)),
    ),
    "slow": (slow("slow chunk"),),
    "fail": FAIL,
}
RESEARCHER: dict[str, Script] = {
    "lookup": (
        ToolCall("lookup_fact", {"topic": "France"}),
        Text(("According to ", "lookup_fact, ", "Paris is ", "France's capital.")),
    ),
    "slowmember": (ToolCall("lookup_fact", {"topic": "France"}), slow("member chunk")),
}
WRITER: dict[str, Script] = {"write": (Text(("A short answer.",)),)}
ASSISTANT: dict[str, Script] = {
    "hello": (Text(("Hello ", "from the ", "assistant!"), 0.05),),
    "lookup": RESEARCHER["lookup"],
    "slow": (slow("slow chunk"),),
    "fail": FAIL,
}


@dataclass
class ScriptedModel(Model):
    """An agno `Model` that plays scripts instead of calling a provider."""

    id: str = "fake-model-1"
    name: str = "FakeModel"
    provider: str = "Fake"
    scripts: Mapping[str, Script] = field(default_factory=dict)
    default: str = ""

    def step(self, messages: list[Message]) -> Step:
        users = [i for i, m in enumerate(messages) if m.role == "user"]
        last = users[-1] if users else -1
        words = set(re.findall(r"[a-z]+", messages[last].get_content_string().lower())) if users else set()
        name = next((n for n in self.scripts if n in words), self.default or next(iter(self.scripts)))
        # The calls already made in this turn are the assistant messages after the user's.
        done = sum(1 for m in messages[last + 1 :] if m.role == "assistant")
        script = self.scripts[name]
        if done >= len(script):
            raise RuntimeError(f"script {name!r} has {len(script)} steps; call {done + 1} has none")
        return script[done]

    def invoke(self, messages: list[Message], **_: Any) -> ModelResponse:
        step = self.step(messages)
        if isinstance(step, Text):
            time.sleep(step.delay * (len(step.deltas) - 1))
        return _whole(step)

    async def ainvoke(self, messages: list[Message], **_: Any) -> ModelResponse:
        step = self.step(messages)
        if isinstance(step, Text):
            await asyncio.sleep(step.delay * (len(step.deltas) - 1))
        return _whole(step)

    def invoke_stream(self, messages: list[Message], **_: Any) -> Iterator[ModelResponse]:
        step = self.step(messages)
        if not isinstance(step, Text):
            yield _whole(step)
            return
        for i, delta in enumerate(step.deltas):
            if i and step.delay:
                time.sleep(step.delay)
            yield ModelResponse(role="assistant", content=delta)

    async def ainvoke_stream(self, messages: list[Message], **_: Any) -> AsyncIterator[ModelResponse]:
        step = self.step(messages)
        if not isinstance(step, Text):
            yield _whole(step)
            return
        for i, delta in enumerate(step.deltas):
            if i and step.delay:
                await asyncio.sleep(step.delay)
            yield ModelResponse(role="assistant", content=delta)

    # The "provider" already answers with ModelResponse objects: nothing to parse.
    def _parse_provider_response(self, response: Any, **_: Any) -> ModelResponse:
        return response

    def _parse_provider_response_delta(self, response: Any) -> ModelResponse:
        return response


def _whole(step: Step) -> ModelResponse:
    if isinstance(step, Fail):
        raise RuntimeError(step.message)
    if isinstance(step, ToolCall):
        function = {"name": step.name, "arguments": json.dumps(dict(step.args))}
        return ModelResponse(
            role="assistant", tool_calls=[{"id": f"call_{uuid4().hex[:24]}", "type": "function", "function": function}]
        )
    return ModelResponse(role="assistant", content="".join(step.deltas))


FACTS = {"France": "The capital of France is Paris."}


def lookup_fact(topic: str) -> str:
    """Look up a canned fact about a topic.

    Args:
        topic (str): The topic to look up, e.g. "France".
    """
    return json.dumps({"topic": topic, "fact": FACTS.get(topic, f"Nothing is known about {topic}.")})


def build_agentos(db_file: Path, security_key: str | None = None) -> AgentOS:
    """The AgentOS of the captures (`research-team`) plus a stand-alone agent `assistant`."""
    db = SqliteDb(db_file=str(db_file))
    researcher = Agent(
        id="researcher",
        name="Researcher",
        role="Looks facts up with the lookup_fact tool",
        model=ScriptedModel(scripts=RESEARCHER),
        tools=[lookup_fact],
        telemetry=False,
    )
    writer = Agent(
        id="writer", name="Writer", role="Writes short answers", model=ScriptedModel(scripts=WRITER), telemetry=False
    )
    team = Team(
        id="research-team",
        name="Research Team",
        description="A deterministic two-member team backed by a fake model",
        members=[researcher, writer],
        model=ScriptedModel(scripts=LEADER, default="delegate"),
        db=db,
        telemetry=False,
    )
    assistant = Agent(
        id="assistant",
        name="Assistant",
        description="A stand-alone agent backed by a fake model",
        model=ScriptedModel(scripts=ASSISTANT, default="hello"),
        tools=[lookup_fact],
        db=db,
        telemetry=False,
    )
    return AgentOS(
        id="real-agentos",
        agents=[assistant],
        teams=[team],
        db=db,
        settings=AgnoAPISettings(os_security_key=security_key),
        telemetry=False,
    )


@contextmanager
def run_real_agentos(port: int | None = None, security_key: str | None = None) -> Iterator[str]:
    """Serve a fresh AgentOS (empty database) on loopback until the block ends; yields its URL."""
    with tempfile.TemporaryDirectory(prefix="real-agentos-") as folder:
        app = build_agentos(Path(folder) / "agentos.db", security_key).get_app()
        with serve_app(app, port) as (url, _):
            _wait_healthy(url)
            yield url


def _wait_healthy(url: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"AgentOS at {url} did not answer /health within {timeout}s")
        time.sleep(0.05)
