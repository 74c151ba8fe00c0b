"""One log line per run: team, scenario, session, status, events sent, duration, how it ended.

`RunLog.follow` wraps the bytes of a stream on their way to the client: it counts the frames
actually sent, ends the stream when the server shuts down, and logs when the stream is over,
however that happens. A run that is not streamed logs through `RunLog.finish`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.run.plan import RunContext
from mockserver.run.shutdown import Stopping

logger = logging.getLogger("mockserver.http.runs")

# A run that sent one of these ended that way; one that sent neither and ran to its end
# "completed". Cut short, it ended "disconnected" (the client left) or "shutdown".
_ENDINGS = {"TeamRunCancelled": "cancelled", "TeamRunError": "error"}


@dataclass
class RunLog:
    team: str
    scenario: str
    session_id: str
    run_id: str
    stream: bool
    status: int = 200
    events: int = 0
    started: float = field(default_factory=time.monotonic)
    _sent: set[str] = field(default_factory=set)

    @classmethod
    def begin(cls, context: RunContext, stream: bool) -> RunLog:
        return cls(context.team.id, context.scenario.name, context.session_id, context.run_id, stream)

    async def follow(self, chunks: AsyncIterator[bytes], stopping: Stopping) -> AsyncIterator[bytes]:
        """Pass `chunks` through (one SSE frame each); stop early when the server stops."""
        ended = "disconnected"
        try:
            while True:
                if stopping.is_set:  # a frame that was due at once meets no cancel point
                    ended = "shutdown"
                    break
                with stopping.scope() as scope:
                    try:
                        chunk = await chunks.__anext__()
                    except StopAsyncIteration:
                        ended = self.outcome()
                        break
                if scope.cancelled_caught:
                    ended = "shutdown"
                    break
                yield chunk
                self._count(chunk)
        except Exception:
            ended = "failed"
            raise
        finally:
            with anyio.CancelScope(shield=True):
                aclose = getattr(chunks, "aclose", None)
                if aclose is not None:
                    await aclose()
            self.log(ended)

    def finish(self, events: Iterable[str], stopped: bool = False) -> None:
        """Log a run answered as one JSON body holding `events`."""
        for event in events:
            self.events += 1
            self._sent.add(event)
        self.log("shutdown" if stopped else self.outcome())

    def around(self, app: ASGIApp, ended: str) -> ASGIApp:
        """`app` (a fault's response), logged when it is over with the status and frames it sent."""

        async def logged(scope: Scope, receive: Receive, send: Send) -> None:
            async def counting(message: Message) -> None:
                if message["type"] == "http.response.start":
                    self.status = message["status"]
                elif message["type"] == "http.response.body":
                    self._count(message.get("body", b""))
                await send(message)

            try:
                await app(scope, receive, counting)
            finally:
                self.log(ended)

        return logged

    def outcome(self) -> str:
        return next((ending for event, ending in _ENDINGS.items() if event in self._sent), "completed")

    def log(self, ended: str) -> None:
        fields = {
            "team": self.team,
            "scenario": self.scenario,
            "session": self.session_id,
            "run": self.run_id,
            "stream": self.stream,
            "status": self.status,
            "events": self.events,
            "duration_ms": round((time.monotonic() - self.started) * 1000),
            "ended": ended,
        }
        logger.info("run", extra={"fields": fields})

    def _count(self, chunk: bytes) -> None:
        if chunk.startswith(b"event: "):
            self.events += 1
            self._sent.add(chunk[7 : chunk.find(b"\n")].decode("utf-8", "replace"))
