"""The runs under way, each under its `run_id`, so `POST …/runs/{run_id}/cancel` can reach it."""

from __future__ import annotations

import asyncio

EARLY = 0.0005
"""Seconds a wait ends before its deadline. The selector rounds its timeout up to a whole
millisecond, so a wake-up comes 0-1 ms late; ending half of that early centres the error on
the deadline (about ±0.5 ms) instead of leaving every frame half a millisecond late on average."""


class RunControl:
    """What can stop one run from outside: a cancel (the endpoint or a `cancel` fault)."""

    def __init__(self) -> None:
        self.cancelled = asyncio.Event()
        self._waiters: set[asyncio.Future[None]] = set()

    def cancel(self) -> None:
        self.cancelled.set()
        for waiter in self._waiters:
            _wake(waiter)

    async def wait_until(self, deadline: float) -> bool:
        """Sleep until `deadline` on the loop clock (`EARLY` before it); False if the run was cancelled first.

        One future and one timer a wait: a cancel scope and an event wait (anyio's
        `move_on_after`) cost several times more, and a thousand streams wait twenty times a second.
        """
        if self.cancelled.is_set():
            return False
        loop = asyncio.get_running_loop()
        deadline -= EARLY
        if deadline <= loop.time():
            return True
        waiter: asyncio.Future[None] = loop.create_future()
        timer = loop.call_at(deadline, _wake, waiter)
        self._waiters.add(waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiters.discard(waiter)
        return not self.cancelled.is_set()


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class LiveRuns:
    def __init__(self) -> None:
        self._running: dict[str, RunControl] = {}

    def __contains__(self, run_id: str) -> bool:
        return run_id in self._running

    def __len__(self) -> int:
        return len(self._running)

    def register(self, run_id: str) -> RunControl:
        control = self._running[run_id] = RunControl()
        return control

    def unregister(self, run_id: str) -> None:
        self._running.pop(run_id, None)

    def cancel(self, run_id: str) -> bool:
        """Ask a running run to stop; False when no such run is under way."""
        control = self._running.get(run_id)
        if control is None:
            return False
        control.cancel()
        return True
