"""A raw-socket HTTP/1.1 load generator for streamed runs: asyncio protocols, no HTTP client library.

An httpx client saturates long before the server does (it parses every chunk, builds objects
per event); this one sends a prebuilt request and only watches the end of the bytes for the
chunked terminator, so one process drives a thousand streams and stays lighter than the server.

Two measurements, both over keep-alive-free or keep-alive connections as noted:

- `throughput`: `connections` keep-alive connections, each sending the next request as soon as
  the last response ended (what `wrk -c N` does); completed runs per second over `seconds`.
- `burst`: `streams` connections opened and sent their request all at once; each one's time from
  the common start to its last byte.

Run: python bench/loadgen.py throughput --port 7777 --team research-team [--connections 10] [--seconds 10]
     python bench/loadgen.py burst --port 7777 --team ticks [--streams 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

TERMINATOR = b"\r\n0\r\n\r\n"
"""How a chunked body ends (the last data chunk's CRLF, then the zero chunk); SSE data never holds CRLF."""

BOUNDARY = "loadgenboundary7f3a"


def run_request(
    team: str,
    message: str = "What is the capital of France?",
    *,
    host: str = "127.0.0.1",
    speed: str | None = None,
    close: bool = False,
) -> bytes:
    """A complete multipart `POST /teams/{team}/runs` with `message` and `stream=true`."""
    parts = []
    for name, value in (("message", message), ("stream", "true")):
        parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n')
    body = ("".join(parts) + f"--{BOUNDARY}--\r\n").encode()
    head = [
        f"POST /teams/{team}/runs HTTP/1.1",
        f"Host: {host}",
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
        f"Content-Length: {len(body)}",
    ]
    if speed is not None:
        head.append(f"X-Mock-Speed: {speed}")
    if close:
        head.append("Connection: close")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


@dataclass
class Exchange(asyncio.Protocol):
    """One connection: sends `request`, calls `done` at each response's end, optionally again."""

    request: bytes
    done: Callable[[Exchange], None]
    keep: bytes = b""
    transport: asyncio.Transport | None = None
    received: int = 0
    body: bytearray | None = None
    """Set to a bytearray to keep the whole response (for a check of what was served)."""
    lost: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's transports are not asyncio classes

    def send(self) -> None:
        assert self.transport is not None
        self.keep = b""
        self.received = 0
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        if self.body is not None:
            self.body += data
        tail = self.keep + data[-len(TERMINATOR) :]
        if tail.endswith(TERMINATOR):
            self.keep = b""
            self.done(self)
        else:
            self.keep = tail[-len(TERMINATOR) :]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(None)


async def throughput(
    host: str, port: int, request: bytes, connections: int, seconds: float, warmup: float = 1.0
) -> float:
    """Completed responses per second over `seconds`, after `warmup` seconds not counted."""
    loop = asyncio.get_running_loop()
    counting = False
    count = 0

    def done(exchange: Exchange) -> None:
        nonlocal count
        if counting:
            count += 1
        exchange.send()

    exchanges = []
    for _ in range(connections):
        _, exchange = await loop.create_connection(lambda: Exchange(request, done), host, port)
        exchanges.append(exchange)
    for exchange in exchanges:
        exchange.send()
    await asyncio.sleep(warmup)
    counting = True
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    counting = False
    elapsed = time.perf_counter() - started
    for exchange in exchanges:
        assert exchange.transport is not None
        exchange.transport.close()
    return count / elapsed


async def burst(host: str, port: int, request: bytes, streams: int) -> list[float]:
    """Seconds from the common start to each stream's last byte, sorted; every stream must finish."""
    loop = asyncio.get_running_loop()
    finished: list[float] = []
    all_done = loop.create_future()
    started = 0.0

    def done(exchange: Exchange) -> None:
        finished.append(time.perf_counter() - started)
        assert exchange.transport is not None
        exchange.transport.close()
        if len(finished) == streams and not all_done.done():
            all_done.set_result(None)

    exchanges = await asyncio.gather(
        *(loop.create_connection(lambda: Exchange(request, done), host, port) for _ in range(streams))
    )
    started = time.perf_counter()
    for _, exchange in exchanges:
        exchange.send()
    await asyncio.wait_for(all_done, timeout=120)
    return sorted(finished)


async def fetch(host: str, port: int, request: bytes) -> bytes:
    """One whole response, head and chunked body as received."""
    loop = asyncio.get_running_loop()
    ended = loop.create_future()

    def done(exchange: Exchange) -> None:
        if not ended.done():
            ended.set_result(None)

    transport, exchange = await loop.create_connection(lambda: Exchange(request, done), host, port)
    exchange.body = bytearray()
    exchange.send()
    await asyncio.wait_for(ended, timeout=30)
    transport.close()
    return bytes(exchange.body)


def dechunk(response: bytes) -> bytes:
    """The body of a chunked HTTP/1.1 response."""
    _, _, rest = response.partition(b"\r\n\r\n")
    body = bytearray()
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return bytes(body)
        body += rest[:size]
        rest = rest[size + 2 :]


def new_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop when it is installed (the `fast` extra), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("throughput", "burst"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7777)
    parser.add_argument("--team", default="research-team")
    parser.add_argument("--message", default="What is the capital of France?")
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of load before counting starts")
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="print one JSON object (for bench/versus.py)")
    args = parser.parse_args()
    loop = new_loop()
    if args.mode == "throughput":
        request = run_request(args.team, args.message, host=args.host)
        rate = loop.run_until_complete(
            throughput(args.host, args.port, request, args.connections, args.seconds, args.warmup)
        )
        result: dict[str, float] = {"runs_per_s": rate}
    else:
        request = run_request(args.team, args.message, host=args.host, close=True)
        times = loop.run_until_complete(burst(args.host, args.port, request, args.streams))
        result = {
            "streams": len(times),
            "median_s": statistics.median(times),
            "max_s": times[-1],
            "p99_s": times[int(len(times) * 0.99) - 1],
        }
    loop.close()
    print(json.dumps(result) if args.json else " ".join(f"{k}={v:.3f}" for k, v in result.items()))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
