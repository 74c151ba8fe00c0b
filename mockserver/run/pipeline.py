"""The one path every run takes: plan → delivery → live registry → player → encoder → stamp → bytes → store.

`RunResponse` is the ASGI response of a run, plain or faulted, streamed or not. It registers
the run (so cancel reaches it), plays its plan with the delivery's timing, feeds the frames to
the encoder and sends what comes out with the run's own ids and times stamped in, ends at once
when the client leaves or the server shuts down, and, however it ended, hands one `RunRecord`
to the run log and the session store.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio
from starlette.types import Message, Receive, Scope, Send

from mockserver.agentos.cancel import cancel_frames, client_left_frames
from mockserver.agentos.fold import RunFold, fold
from mockserver.run.delivery import Delivery
from mockserver.run.live import RunControl
from mockserver.run.plan import Frame, Plan, RunContext
from mockserver.run.player import Player
from mockserver.run.runlog import log_run
from mockserver.run.stamp import Stamp
from mockserver.wire.encoder import Encoder

if TYPE_CHECKING:
    from mockserver.state import AppState, Space

WRITE_SIZE = 64 * 1024
"""Bytes of frames due together sent in one write, about (a frame is never cut)."""

RUN_RECORD = "mock.run"
"""The scope key of the run's `RunRecord`, read by the request journal once the response is over."""


@dataclass
class RunRecord:
    """What one run did, filled in as it goes and read once when it is over."""

    plan: Plan
    stamp: Stamp
    delivery: Delivery
    stream: bool
    sent: list[Frame] = field(default_factory=list)
    facts: RunFold = field(default_factory=RunFold)
    ending: str | None = None
    """completed, error, cancelled, dropped, stalled, disconnected, shutdown or refused."""
    status: int = 200
    started: float = field(default_factory=time.monotonic)
    duration: float = 0.0
    elapsed: float = 0.0
    """Seconds into the plan's own clock when it ended."""
    lateness: float = 0.0
    size: int = 0
    """Bytes of the response body sent."""

    @property
    def context(self) -> RunContext:
        """The run's own request values (its plan holds marks for its ids and times)."""
        return self.stamp.context

    def take(self, frames: list[Frame] | tuple[Frame, ...]) -> None:
        for frame in frames:
            self.facts.add(frame)
        self.sent.extend(frames)


class RunResponse:
    def __init__(
        self,
        state: AppState,
        plan: Plan,
        stamp: Stamp,
        delivery: Delivery,
        encoder: Encoder,
        *,
        stream: bool,
        space: Space | None = None,
    ) -> None:
        self.state = state
        self.space = space if space is not None else state.space()
        self.encoder = encoder
        self.run = RunRecord(plan, stamp, delivery, stream)
        self.started = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        run = self.run
        state = self.state
        scope[RUN_RECORD] = run
        control = state.live_runs.register(run.context.run_id)
        player = Player(run.plan, run.delivery, control)
        try:
            with anyio.CancelScope() as hung_up:
                # A plain task, not an anyio task group: opening and closing a group cost a fifth
                # of a short run's CPU, and the listener only ever cancels this scope.
                listener = asyncio.get_running_loop().create_task(self._listen(receive, hung_up))
                try:
                    with state.stopping.scope() as stopping:
                        await self._deliver(scope, receive, send, player, control)
                    if stopping.cancelled_caught:
                        run.ending = "shutdown"
                        await self._close(scope, receive, send)
                finally:
                    listener.cancel()
        finally:
            state.live_runs.unregister(run.context.run_id)
            if run.ending is None:
                run.ending = "disconnected"
            if run.ending == "disconnected" and player.holding:
                run.ending = "stalled"
            run.duration = time.monotonic() - run.started
            run.lateness = player.lateness
            run.elapsed = player.elapsed() if player.start else 0.0
            self._finished()

    async def _listen(self, receive: Receive, scope: anyio.CancelScope) -> None:
        """Cancel the run's `scope` when the client leaves (a receive that fails ends it too)."""
        try:
            while (await receive())["type"] != "http.disconnect":
                pass
        except Exception:  # nothing more can come from this client: as if it had left
            pass
        # Only on a hang-up, not when the run's end cancels the listener: anyio's cancel() writes
        # the calling task's repr into its reason, which is not free.
        scope.cancel()

    async def _deliver(self, scope: Scope, receive: Receive, send: Send, player: Player, control: RunControl) -> None:
        run = self.run
        delivery = run.delivery
        # A scenario's head time counts from the request's arrival, so the mock's own work is not added to it.
        head = max(run.plan.head - (time.time() - run.context.started_at), 0.0) + delivery.head_delay
        if head > 0:
            # The frames count from when the head was due, so a late wake-up here does not delay them all.
            player.origin = anyio.current_time() + head
            await anyio.sleep_until(player.origin)
        if delivery.refusal is not None:
            await self._refuse(scope, receive, send)
            return
        encoder = self.encoder
        if encoder.streaming:
            await self._start(send)
        async for batch in player.batches():
            if batch is None:
                await self._send(send, encoder.keep_alive())
            else:
                run.take(list(batch))
                await self._write(send, batch)
        if player.ending == "cancelled":
            closing = cancel_frames(run.plan, run.facts, player.elapsed())
            run.take(closing)
            await self._write(send, closing)
        if player.ending == "dropped":
            run.ending = "dropped"
            await self._hang_up(receive, send)
            return
        run.ending = {"ERROR": "error", "CANCELLED": "cancelled"}.get(run.facts.status, "completed")
        await self._close(scope, receive, send)

    async def _write(self, send: Send, frames: Sequence[Frame]) -> None:
        """Frames due together leave together, in writes of about `WRITE_SIZE` bytes at most, so
        a long answer is never held whole in memory several times over (encoded, stamped, framed)."""
        start, size = 0, 0
        for end, frame in enumerate(frames):
            weight = _weight(frame)
            if end > start and size + weight > WRITE_SIZE:
                await self._send(send, self.encoder.frames(frames[start:end]))
                start, size = end, 0
            size += weight
        await self._send(send, self.encoder.frames(frames[start:]))

    async def _send(self, send: Send, chunk: bytes) -> None:
        """Send a part of the body, the run's own values stamped in."""
        if chunk:
            await self._body(send, self.run.stamp.wire(chunk), more=True)

    async def _body(self, send: Send, body: bytes, *, more: bool) -> None:
        """Send `body` in parts of `WRITE_SIZE`: the server's framing and buffers then copy one
        part at a time, and each waits for the client to take the one before."""
        self.run.size += len(body)
        offset = 0
        while len(body) - offset > WRITE_SIZE:
            await send({"type": "http.response.body", "body": body[offset : offset + WRITE_SIZE], "more_body": True})
            offset += WRITE_SIZE
        await send({"type": "http.response.body", "body": body[offset:], "more_body": more})

    async def _start(self, send: Send, length: int | None = None) -> None:
        encoder = self.encoder
        headers = [(b"content-type", encoder.media_type.encode("latin-1"))]
        if length is not None:
            headers.append((b"content-length", str(length).encode("latin-1")))
        headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in encoder.headers.items()]
        self.started = True
        await send({"type": "http.response.start", "status": 200, "headers": headers})

    async def _close(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send whatever ends the response: the encoder's last bytes (with the head, if not sent)."""
        if self.run.delivery.refusal is not None:
            if not self.started:
                await self._refuse(scope, receive, send)
            return
        body = self.run.stamp.wire(self.encoder.end(self.run.plan, self.run.facts))
        if not self.started:
            await self._start(send, len(body))
        await self._body(send, body, more=False)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        run = self.run
        run.ending = "refused"

        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start":
                run.status = message["status"]
                self.started = True
            await send(message)

        assert run.delivery.refusal is not None
        await run.delivery.refusal(scope, receive, noting)

    async def _hang_up(self, receive: Receive, send: Send) -> None:
        """End with the response unfinished: half of the body's last part, then the connection closes.

        ASGI has no message for "abort"; returning with the response unfinished makes every
        server close the connection, but uvicorn also logs it as an application error. Under
        uvicorn, the receive callable belongs to the connection's request cycle, whose
        transport we close ourselves; the disconnect listener then ends the run quietly.
        """
        if not self.encoder.streaming:
            body = self.run.stamp.wire(self.encoder.end(self.run.plan, self.run.facts))
            await self._start(send, len(body))
            self.run.size += len(body) // 2
            await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        transport = getattr(getattr(receive, "__self__", None), "transport", None)
        if isinstance(transport, asyncio.BaseTransport):
            transport.close()
            with anyio.move_on_after(1):
                await anyio.sleep_forever()

    def _finished(self) -> None:
        run = self.run
        log_run(run)
        sessions = self.space.sessions
        if run.ending in STORED_AS_FRAMES_SAY:
            stored = sessions.record(run.plan, run.facts, run.sent, run.stamp, size=run.size, stream=run.stream)
        elif run.ending in CLIENT_LEFT:
            closing = client_left_frames(run.plan, run.facts, run.elapsed)
            frames = [*run.sent, *closing]
            stored = sessions.record(run.plan, fold(frames), frames, run.stamp, size=run.size, stream=run.stream)
        else:
            return
        self.state.bound_sessions(self.space)
        # Once the cache lets the plan go, the records cost the store less than the plan. A plan
        # of its own is kept with the run (its records are made when read, not now: making them
        # here would hold up the client's next request).
        self.state.plans.hold(run.plan, stored.settle)


def _weight(frame: Frame) -> int:
    """About the bytes a frame makes: its SSE bytes when a kept plan has them, else its texts' length."""
    if frame.encoded is not None:
        return len(frame.encoded)
    return sum(len(value) for value in frame.data.values() if isinstance(value, str))


STORED_AS_FRAMES_SAY = frozenset({"completed", "error", "cancelled"})
"""Endings whose run is stored as its frames end it (COMPLETED, ERROR or CANCELLED)."""

CLIENT_LEFT = frozenset({"disconnected", "stalled", "dropped"})
"""Endings AgentOS sees as a client that went away: it stores the run CANCELLED (`n1`, `n2`).
A shutdown or a refused request stores nothing."""
