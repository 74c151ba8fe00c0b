"""The runs under way, each under its `run_id`, so `POST …/runs/{run_id}/cancel` can reach it."""

from __future__ import annotations

import anyio


class RunControl:
    """What can stop one run from outside: a cancel (the endpoint or a `cancel` fault)."""

    def __init__(self) -> None:
        self.cancelled = anyio.Event()

    def cancel(self) -> None:
        self.cancelled.set()

    async def wait_until(self, deadline: float) -> bool:
        """Sleep until `deadline` on the loop clock; False if the run was cancelled first."""
        delay = deadline - anyio.current_time()
        if delay > 0 and not self.cancelled.is_set():
            with anyio.move_on_after(delay):
                await self.cancelled.wait()
        return not self.cancelled.is_set()


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
