"""A run's waits: on time by the loop clock, and cut short by a cancel."""

from __future__ import annotations

import asyncio

from mockserver.run.live import RunControl


def test_a_wait_ends_at_its_deadline() -> None:
    async def main() -> tuple[bool, float]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 0.05
        done = await RunControl().wait_until(deadline)
        return done, loop.time() - deadline

    done, late = asyncio.run(main())
    assert done
    assert 0 <= late < 0.04


def test_a_cancel_ends_every_wait_at_once() -> None:
    async def main() -> tuple[list[bool], float, bool]:
        loop = asyncio.get_running_loop()
        control = RunControl()
        started = loop.time()
        waits = [asyncio.ensure_future(control.wait_until(started + 10)) for _ in range(2)]
        loop.call_later(0.02, control.cancel)
        results = await asyncio.gather(*waits)
        return results, loop.time() - started, await control.wait_until(loop.time() + 10)

    results, took, after = asyncio.run(main())
    assert results == [False, False]
    assert took < 1
    assert after is False


def test_a_past_deadline_returns_without_waiting() -> None:
    async def main() -> bool:
        loop = asyncio.get_running_loop()
        return await RunControl().wait_until(loop.time() - 1)

    assert asyncio.run(main())
