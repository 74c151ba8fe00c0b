"""Plays a plan in real time: each frame is released at `start + frame.at` on the loop clock.

Deadlines are absolute, so a late wake-up never pushes the frames after it back: the stream
does not drift however many frames it has.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio

from mockserver.plan import Frame, Plan


async def play(plan: Plan) -> AsyncIterator[Frame]:
    start = anyio.current_time()
    for frame in plan.frames:
        delay = start + frame.at - anyio.current_time()
        if delay > 0:
            await anyio.sleep(delay)
        yield frame
