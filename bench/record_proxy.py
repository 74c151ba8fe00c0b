"""What the recording proxy adds to a slow real stream: to the first byte and to each frame.

A real AgentOS 3.1.10 (tests/real_agentos.py, scripted offline model, in its own process)
streams the `slow` run: 20 content chunks 100 ms apart. The client asks it through the
recording proxy (the same `RecordingProxy` as `mockserver record`, served by uvicorn in a thread
of this process), `--rounds` times. A tap on the proxy's upstream connection stamps each chunk
when it reaches the proxy, which is when a client talking to the AgentOS directly would have
it (both sit one loopback hop away); the client stamps it again when it arrives through the
proxy. Per frame, proxy minus direct is the difference, on one clock, in one run. The
proxy shares this process (and its GIL) with the client, so the figures are if anything high.

Run: python bench/record_proxy.py [--rounds 10]
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mockserver.record.proxy import RecordingProxy  # noqa: E402
from mockserver.record.runs import SseReader  # noqa: E402
from mockserver.record.writer import RecordingFolder  # noqa: E402
from tests.conftest import serve_app  # noqa: E402

AGENTOS = textwrap.dedent("""
    import sys, time
    from tests.real_agentos import run_real_agentos
    with run_real_agentos(port=int(sys.argv[1])):
        while True:
            time.sleep(3600)
""")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(client: httpx.Client, url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            client.get(f"{url}/health", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"nothing answered on {url}")


class Tap(httpx.AsyncBaseTransport):
    """The proxy's upstream transport, stamping the head and each chunk of every team run as they arrive."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.runs: list[tuple[float, list[float]]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path.endswith("/runs"):
            frames: list[float] = []
            self.runs.append((time.monotonic(), frames))
            response.stream = Tapped(response.stream, frames)  # type: ignore[arg-type]
        return response


class Tapped(httpx.AsyncByteStream):
    def __init__(self, inner: Any, frames: list[float]) -> None:
        self.inner = inner
        self.frames = frames
        self.reader = SseReader()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.inner:
            at = time.monotonic()
            self.frames.extend(at for _ in self.reader.feed(chunk))
            yield chunk

    async def aclose(self) -> None:
        await self.inner.aclose()


def one_run(client: httpx.Client, url: str) -> tuple[float, list[float]]:
    """(the time the response head arrived, each frame's arrival), on the monotonic clock."""
    reader = SseReader()
    arrivals: list[float] = []
    with client.stream("POST", f"{url}/teams/research-team/runs", data={"message": "slow", "stream": "true"}) as reply:
        head = time.monotonic()
        for chunk in reply.iter_raw():
            at = time.monotonic()
            arrivals.extend(at for _ in reader.feed(chunk))
    return head, arrivals


def ms(values: list[float]) -> str:
    p90 = statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]
    return f"median {statistics.median(values) * 1000:.2f} ms, p90 {p90 * 1000:.2f} ms, max {max(values) * 1000:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    real_port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    real = subprocess.Popen(
        [sys.executable, "-c", AGENTOS, str(real_port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    tap = Tap()
    try:
        with tempfile.TemporaryDirectory() as out:
            upstream = f"http://127.0.0.1:{real_port}"
            proxy = RecordingProxy(upstream, RecordingFolder(Path(out)), report=lambda line: None, transport=tap)
            client = httpx.Client(timeout=60)
            wait_for(client, upstream)
            with serve_app(proxy) as (proxy_url, _):
                one_run(client, proxy_url)  # warm-up: imports, database tables, connections
                heads, frames = [], []
                for _ in range(args.rounds):
                    head, arrivals = one_run(client, proxy_url)
                    upstream_head, upstream_frames = tap.runs[-1]
                    assert len(arrivals) == len(upstream_frames), (len(arrivals), len(upstream_frames))
                    heads.append(head - upstream_head)
                    frames += [a - u for a, u in zip(arrivals, upstream_frames, strict=True)]
            recorded = len(proxy.recorded)
    finally:
        real.terminate()
        real.wait(timeout=10)
    print(
        f"python {platform.python_version()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f},"
        f" {args.rounds} rounds of {len(arrivals)} frames over {arrivals[-1] - head:.2f} s; {recorded} runs recorded"
    )
    print(f"first byte (head), proxy minus direct: {ms(heads)}")
    print(f"each frame, proxy minus direct:        {ms(frames)}")


if __name__ == "__main__":
    main()
