"""What journaling a request costs: the Journaling middleware around a bare ASGI app, per request.

Calls a bare ASGI app that answers 200 directly, and the same app behind `Journaling` (the
namespace lookup, the send wrapper, the entry built and added to a full journal), in one
process, and prints microseconds per request of each and the difference. A real run takes
milliseconds, so the difference is what journaling adds to one.

    python bench/journal_overhead.py [requests]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import anyio

from mockserver.app import create_app
from mockserver.http.journaling import Journaling
from mockserver.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
HEADERS = [
    (b"host", b"127.0.0.1:7777"),
    (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0"),
    (b"authorization", b"Bearer secret"),
    (b"content-type", b"multipart/form-data; boundary=x"),
    (b"origin", b"http://localhost:3000"),
    (b"accept", b"*/*"),
]


async def bare(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}", "more_body": False})


async def timed(app: Any, requests: int, holder: Any) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    started = time.perf_counter()
    for n in range(requests):
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/teams/quick-team/runs",
            "query_string": b"",
            "headers": HEADERS,
            "app": holder,
            "n": n,
        }
        await app(scope, receive, send)
    return (time.perf_counter() - started) / requests * 1e6


async def main(requests: int) -> None:
    holder = create_app(Settings(scenarios=ROOT / "scenarios"))
    journaled = Journaling(bare, error_format="documented")
    await timed(journaled, holder.state.mock.settings.journal_size, holder)  # fill the journal first
    plain_us = await timed(bare, requests, holder)
    journal_us = await timed(journaled, requests, holder)
    print(f"python {sys.version.split()[0]}, {requests} requests")
    print(f"bare ASGI app      {plain_us:6.2f} us/request")
    print(f"behind Journaling  {journal_us:6.2f} us/request  (+{journal_us - plain_us:.2f} us)")


if __name__ == "__main__":
    anyio.run(main, int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
