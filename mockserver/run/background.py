"""Background runs (`background=true`): the run goes on when its client leaves; `/resume` catches up.

A background run is the same `RunResponse` as any other run (one path: plan, delivery, live
registry, log, encoder, store), played by a detached task into a buffer instead of a socket.
Its encoder numbers the frames (`event_index`, as AgentOS 3.1.10 does); the POST that started
it and every `/resume` read the buffer, from where the client says it stopped, then live until
the run ends. Past `--max-background-runs` the oldest finished buffer is dropped; `/resume`
then falls back to the session store, as AgentOS falls back to its database.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

import anyio
from starlette.types import Message, Scope

from mockserver.run.pipeline import RunResponse

RUNNING = "RUNNING"


class BackgroundRun:
    """The frames one background run sent so far (each one `event: …\\ndata: …\\n\\n`)."""

    def __init__(self, run_id: str, session_id: str, streamed: bool) -> None:
        self.run_id = run_id
        self.session_id = session_id
        self.streamed = streamed
        self.frames: list[bytes] = []
        self.status = RUNNING
        self.done = False
        self._changed = anyio.Event()
        self.task: asyncio.Task[None] | None = None

    def add(self, chunk: bytes) -> None:
        for block in chunk.split(b"\n\n")[:-1]:
            if block.startswith(b"event: "):
                self.frames.append(block + b"\n\n")
        self._notify()

    def finish(self, status: str) -> None:
        self.status = status
        self.done = True
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    async def tail(self, start: int) -> AsyncIterator[bytes]:
        """The frames from index `start` on, as they come, until the run is over."""
        index = start
        while True:
            while index < len(self.frames):
                yield self.frames[index]
                index += 1
            if self.done:
                return
            await self._changed.wait()


class BackgroundRuns:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._runs: OrderedDict[str, BackgroundRun] = OrderedDict()

    def get(self, run_id: str) -> BackgroundRun | None:
        return self._runs.get(run_id)

    def start(self, response: RunResponse, scope: Scope, *, streamed: bool) -> BackgroundRun:
        """Play `response` in a task of its own; the returned run fills as it plays."""
        context = response.run.context
        run = BackgroundRun(context.run_id, context.session_id, streamed)

        async def receive() -> Message:
            await anyio.sleep_forever()  # nobody hangs up on a background run
            raise AssertionError("unreachable")

        async def send(message: Message) -> None:
            if message["type"] == "http.response.body":
                run.add(message.get("body", b""))

        async def play() -> None:
            try:
                await response(dict(scope), receive, send)
            finally:
                run.finish(_status(response))

        run.task = asyncio.get_running_loop().create_task(play())
        self._runs[run.run_id] = run
        self._trim()
        return run

    def _trim(self) -> None:
        finished = [run_id for run_id, run in self._runs.items() if run.done]
        while len(self._runs) > self.limit and finished:
            del self._runs[finished.pop(0)]


def _status(response: RunResponse) -> str:
    ending = response.run.ending
    if ending in ("completed", "error", "cancelled"):
        return str(response.run.facts.status)
    return "ERROR"


def meta_frame(event: str, data: dict[str, Any]) -> bytes:
    """AgentOS writes its own resume frames with `json.dumps` defaults (spaces after separators)."""
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()
