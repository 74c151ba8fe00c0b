"""Plays a plan in real time: each frame is released at `start + frame.at` on the loop clock.

Deadlines are absolute, so a late wake-up never pushes the frames after it back: the stream
does not drift however many frames it has.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio

from mockserver.run.plan import Frame, Plan


async def play(plan: Plan, stop: anyio.Event | None = None) -> AsyncIterator[Frame]:
    """The plan's frames on time; when `stop` is set, the next wait ends and nothing more comes."""
    start = anyio.current_time()
    for frame in plan.frames:
        delay = start + frame.at - anyio.current_time()
        if delay > 0:
            if stop is None:
                await anyio.sleep(delay)
            else:
                with anyio.move_on_after(delay):
                    await stop.wait()
        if stop is not None and stop.is_set():
            return
        yield frame
