"""CPU of one timed frame inside the app, without sockets: the mock against a bare `StreamingResponse`.

Both apps are called directly as ASGI apps with a `send` that keeps the bytes. Each plays the
same 200 frames 2 ms apart, `--streams` at a time (the bare app sleeps 2 ms between its frames,
as `bench/versus.py`'s bare app does). The figure is process CPU time over the writes made,
so a write's share of a run's start and end is in it. Rounds alternate mock and bare; the ratio
of each pair is taken moments apart, which matters on a shared machine.

Run: python bench/timed_frames.py [--streams 10] [--rounds 9]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inprocess import one_run, request_parts
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from mockserver.app import create_app
from mockserver.settings import Settings

GAP = 0.002
SCENARIO = textwrap.dedent("""
    version: 1
    team: {id: ticks, name: Ticks}
    scenarios:
      - name: ticks
        gap: 2ms
        model_requests: false
        events:
""") + "".join(f"          - event: CustomEvent\n            tick: {i}\n" for i in range(198))
"""TeamRunStarted, 198 custom events and TeamRunCompleted: 200 frames 2 ms apart."""


def cpu_per_write(app: Any, scope: dict[str, Any], body: bytes, streams: int) -> tuple[float, list[bytes]]:
    """(CPU seconds per write, the writes) of `streams` runs played at once."""
    sink: list[bytes] = []

    async def together() -> None:
        await asyncio.gather(*(one_run(app, scope, body, sink) for _ in range(streams)))

    started = time.process_time()
    asyncio.run(together())
    return (time.process_time() - started) / len(sink), sink


def bare_app(frames: list[bytes]) -> Starlette:
    async def ticks() -> AsyncIterator[bytes]:
        for index, frame in enumerate(frames):
            if index:
                await asyncio.sleep(GAP)
            yield frame

    async def run(request: Request) -> StreamingResponse:
        await request.form()
        return StreamingResponse(ticks(), media_type="text/event-stream")

    return Starlette(routes=[Route("/teams/{team_id}/runs", run, methods=["POST"])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    logging.getLogger("mockserver").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "ticks.yaml").write_text(SCENARIO)
        mock = create_app(Settings(scenarios=Path(folder), speed=1, reload=False))
        scope, body = request_parts("ticks")
        _, writes = cpu_per_write(mock, scope, body, 1)  # warm up, and the bytes the bare app sends
        frames = [frame + b"\n\n" for frame in b"".join(writes)[:-2].split(b"\n\n")]
        bare = bare_app(frames)
        cpu_per_write(bare, scope, body, 1)
        pairs = []
        for _ in range(args.rounds):
            mine, _ = cpu_per_write(mock, scope, body, args.streams)
            theirs, _ = cpu_per_write(bare, scope, body, args.streams)
            pairs.append((mine, theirs))
    ratios = [mine / theirs for mine, theirs in pairs]
    print(
        f"{args.streams} streams of {len(frames)} frames {GAP * 1000:g} ms apart, {args.rounds} rounds:"
        f" mock {statistics.median(m for m, _ in pairs) * 1e6:.1f} us of CPU a write,"
        f" bare {statistics.median(b for _, b in pairs) * 1e6:.1f} us;"
        f" ratio median {statistics.median(ratios):.2f} (range {min(ratios):.2f}-{max(ratios):.2f})"
    )


if __name__ == "__main__":
    main()
