"""Streaming benchmarks (not tests): throughput against a bare Starlette app, and timing accuracy.

(a) Streamed runs per second at speed 0 for the 28-frame scenario of the capture
    `a_stream_true`, against a bare Starlette app that streams the same 28 frames' bytes from
    memory, one send per frame. Both run as uvicorn processes measured in the same run, so the
    ratio is what counts on a shared, noisy machine.
(b) One stream of 200 events 20 ms apart: the worst lateness of any event and the drift at the
    end, measured on arrival at the client.

Run: python bench/stream_bench.py [--requests 600] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
CAPTURE_SCENARIOS = ROOT / "tests" / "scenarios"

BARE_APP = textwrap.dedent("""
    import os
    from starlette.applications import Starlette
    from starlette.responses import StreamingResponse
    from starlette.routing import Route

    BODY = open(os.environ["BARE_BODY"], "rb").read()
    FRAMES = [f + b"\\n\\n" for f in BODY[:-2].split(b"\\n\\n")]

    async def frames():
        for frame in FRAMES:
            yield frame

    async def run(request):
        await request.form()
        return StreamingResponse(frames(), media_type="text/event-stream; charset=utf-8")

    app = Starlette(routes=[Route("/teams/{team_id}/runs", run, methods=["POST"])])
""")

TIMING_SCENARIO = textwrap.dedent("""
    version: 1
    team: {id: timing, name: Timing}
    scenarios:
      - name: ticks
        gap: 20ms
        model_requests: false
        events:
""") + "".join(f"          - event: CustomEvent\n            tick: {i}\n" for i in range(198))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(command: list[str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except httpx.TransportError as err:
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"server did not start: {command}") from err
            time.sleep(0.05)


async def throughput(url: str, requests: int, concurrency: int) -> tuple[float, int]:
    """Runs per second, and the frames per run seen (a sanity check)."""
    frames_seen = []
    queue = list(range(requests))

    async def worker(client: httpx.AsyncClient) -> None:
        while queue:
            queue.pop()
            async with client.stream("POST", url, data={"message": "What is the capital of France?"}) as response:
                body = b"".join([chunk async for chunk in response.aiter_raw()])
            frames_seen.append(body.count(b"\n\nevent: ") + 1)

    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=concurrency)) as client:
        for _ in range(20):  # warm up
            async with client.stream("POST", url, data={"message": "warm up"}) as response:
                await response.aread()
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return requests / elapsed, int(statistics.mode(frames_seen))


def timing(url: str) -> tuple[int, float, float, float]:
    """(events, worst lateness, drift at the end, median lateness), in seconds, relative to the head."""
    arrivals = []
    with httpx.stream("POST", url, data={"message": "ticks"}, timeout=30) as response:
        start = time.monotonic()
        for _ in response.iter_raw():
            arrivals.append(time.monotonic() - start)
    # Frame i is due at i * 20 ms (the first at once).
    lateness = [arrived - 0.02 * i for i, arrived in enumerate(arrivals)]
    return len(arrivals), max(lateness), lateness[-1], statistics.median(lateness)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "bare_app.py"
        bare.write_text(BARE_APP)
        timing_dir = Path(tmp) / "timing"
        timing_dir.mkdir()
        (timing_dir / "timing.yaml").write_text(TIMING_SCENARIO)
        capture = ROOT / "tests" / "captures" / "agentos-3.1.10" / "a_stream_true.body"
        os.environ["BARE_BODY"] = str(capture)
        mock_port, bare_port, timing_port = free_port(), free_port(), free_port()
        env_args = ["--log-level", "warning", "--no-access-log"]
        servers = [
            start(
                [python, "-m", "uvicorn", "--app-dir", tmp, "bare_app:app", "--port", str(bare_port), *env_args],
                bare_port,
            ),
            start(
                [
                    python,
                    "-m",
                    "mockserver",
                    "serve",
                    "--port",
                    str(mock_port),
                    "--speed",
                    "0",
                    "--scenarios",
                    str(CAPTURE_SCENARIOS),
                ],
                mock_port,
            ),
            start(
                [python, "-m", "mockserver", "serve", "--port", str(timing_port), "--scenarios", str(timing_dir)],
                timing_port,
            ),
        ]
        try:
            print(
                f"python {sys.version.split()[0]}, {os.cpu_count()} cores, "
                f"{args.requests} runs, concurrency {args.concurrency}"
            )
            results = {}
            for name, url in (
                ("bare starlette", f"http://127.0.0.1:{bare_port}/teams/research-team/runs"),
                ("mockserver", f"http://127.0.0.1:{mock_port}/teams/research-team/runs"),
            ):
                rate, frames = asyncio.run(throughput(url, args.requests, args.concurrency))
                results[name] = rate
                print(f"(a) {name:15s} {rate:8.1f} runs/s  ({frames} frames per run)")
            print(f"(a) ratio mockserver / bare = {results['mockserver'] / results['bare starlette']:.2f}")
            events, worst, drift, median = timing(f"http://127.0.0.1:{timing_port}/teams/timing/runs")
            print(
                f"(b) {events} events 20 ms apart: worst lateness {worst * 1000:.1f} ms, "
                f"median {median * 1000:.1f} ms, drift at the end {drift * 1000:.1f} ms "
                f"(stream took {(0.02 * (events - 1) + drift):.3f} s for {0.02 * (events - 1):.3f} s scheduled)"
            )
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=10)


if __name__ == "__main__":
    main()
