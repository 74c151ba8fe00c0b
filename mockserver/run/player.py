"""Plays a plan in real time: each frame is released at `start + frame.at` on the loop clock.

Deadlines are absolute, so a late wake-up never pushes the frames after it back: the stream
does not drift however many frames it has. Frames already due when the player wakes leave
together (one write), and a run with nothing to wait for still gives the loop a turn between
batches, so one fast stream never starves the others.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable, Sequence

import anyio

from mockserver.run.delivery import Delivery
from mockserver.run.live import RunControl
from mockserver.run.plan import Frame, Plan

MAX_BATCH = 64
"""Frames sent in one write at most, however many are due at once."""

KeepAlive = None
"""What `Player.batches` yields when only a keep-alive is due."""

MODEL_STARTS = frozenset({"TeamModelRequestStarted", "ModelRequestStarted"})
CONTENT = frozenset({"TeamRunContent", "RunContent"})


class Player:
    def __init__(self, plan: Plan, delivery: Delivery, control: RunControl) -> None:
        self.plan = plan
        self.delivery = delivery
        self.control = control
        self.start = 0.0
        self.ending = "completed"
        """completed, cancelled (from outside or by the delivery) or dropped."""
        self.holding = False
        self.lateness = 0.0
        """The most seconds a batch left after it was due."""
        self.origin: float | None = None
        """The loop time the frames' offsets count from; None: when playing starts."""
        self.content_sent = False
        self.clock: Callable[[], float] = anyio.current_time
        """The loop's clock; `batches` binds the loop's own method, which costs less to call."""

    def elapsed(self) -> float:
        return self.clock() - self.start

    async def batches(self) -> AsyncIterator[Sequence[Frame] | None]:
        """The frames in due batches, `None` for a keep-alive; stops at a cancel or a cut."""
        import anyio.lowlevel  # here, not at start: the first run's anyio backend imports it anyway

        frames = self.plan.frames
        delivery = self.delivery
        control = self.control
        clock = self.clock = asyncio.get_running_loop().time
        self.start = clock() if self.origin is None else self.origin
        marked = {delivery.cut_at, delivery.hold_at, delivery.cancel_at}
        shift = 0.0
        index = 0
        while index < len(frames):
            if index in marked:
                if index == delivery.cut_at:
                    self.ending = "dropped"
                    return
                if index == delivery.hold_at:
                    self.holding = True
                    async for beat in self._hold(self.start + frames[index].at):
                        yield beat
                    self.holding = False
                    if control.cancelled.is_set():
                        self.ending = "cancelled"
                        return
                    shift = delivery.hold
            due = self.start + frames[index].at + shift
            waited = due > clock()
            if not await control.wait_until(due):
                grace = self._grace(index)
                if grace:
                    yield frames[index : index + grace]
                self.ending = "cancelled"
                return
            if index == delivery.cancel_at:
                control.cancel()
                self.ending = "cancelled"
                return
            now = clock()
            end = index + 1
            while end < len(frames) and end - index < MAX_BATCH and end not in marked:
                if self.start + frames[end].at + shift > now:
                    break
                end += 1
            self.lateness = max(self.lateness, now - due)
            batch = frames[index:end]
            yield batch
            if not self.content_sent:
                self.content_sent = any(f.event in CONTENT for f in batch)
            index = end
            if not waited:
                await anyio.lowlevel.checkpoint()

    def _grace(self, index: int) -> int:
        """How many frames from `index` still go out after a cancel from outside.

        agno first checks for a cancel after the model's first chunk: a run cancelled before
        any content still sends the model request's start and one content frame (`i6`).
        """
        if self.content_sent:
            return 0
        frames = self.plan.frames
        end = index
        while end < len(frames) and frames[end].event in MODEL_STARTS and not self._marked(end):
            end += 1
        if end < len(frames) and frames[end].event in CONTENT and not self._marked(end):
            return end + 1 - index
        return 0

    def _marked(self, index: int) -> bool:
        delivery = self.delivery
        return index in (delivery.cut_at, delivery.hold_at, delivery.cancel_at)

    async def _hold(self, since: float) -> AsyncIterator[None]:
        """Keep-alives every `keep_alive` seconds from `since` while the hold lasts."""
        hold, beat = self.delivery.hold, self.delivery.keep_alive
        count = 1
        while beat is not None and beat * count < hold:
            if not await self.control.wait_until(since + beat * count):
                return
            yield KeepAlive
            count += 1
        if hold == math.inf:
            await self.control.cancelled.wait()
        else:
            await self.control.wait_until(since + hold)
