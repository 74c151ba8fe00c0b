"""Does the request journal stay bounded? Server RSS after 1x, 4x and 10x its size in requests.

Starts `mockserver serve --speed 0 --journal-size SIZE` in a subprocess and sends it 100,000
runs (quick-team, stream=false, a form of five fields) from a light load generator: raw
asyncio sockets, HTTP/1.1 keep-alive, a few connections. After every SIZE requests, with none
in flight, it reads the server's VmRSS from /proc. A bounded journal gives a ratio near 1.0
from 1x on; an unbounded one grows with every request.

    python bench/journal_memory.py [--size 10000] [--requests 100000] [--connections 8] [--limit 900]

`--limit` bounds the whole run in seconds; the results so far are printed when it is reached.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def request_bytes(port: int, n: int) -> bytes:
    body = f"message=benchmark+question+{n}&stream=false&user_id=bench-user&monitor=false&note=n{n}".encode()
    head = (
        f"POST /teams/quick-team/runs HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nAuthorization: Bearer not-checked\r\n"
        f"User-Agent: journal-bench\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def connection(port: int, numbers: asyncio.Queue[int], statuses: dict[int, int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while True:
            try:
                n = numbers.get_nowait()
            except asyncio.QueueEmpty:
                return
            writer.write(request_bytes(port, n))
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
            await reader.readexactly(length)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


async def send_batch(port: int, start: int, count: int, connections: int, statuses: dict[int, int]) -> None:
    numbers: asyncio.Queue[int] = asyncio.Queue()
    for n in range(start, start + count):
        numbers.put_nowait(n)
    await asyncio.gather(*(connection(port, numbers, statuses) for _ in range(connections)))


def wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server exited")
        try:
            with urllib.request.urlopen(url + "/health", timeout=1):  # noqa: S310 - loopback
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def journal_entries(url: str) -> int:
    import json

    with urllib.request.urlopen(url + "/__mock/status", timeout=10) as response:  # noqa: S310 - loopback
        return int(json.loads(response.read())["journal"]["entries"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=10_000, help="--journal-size of the server")
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--limit", type=float, default=900.0, help="seconds the whole run may take")
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "mockserver",
        "serve",
        "--port",
        str(port),
        "--speed",
        "0",
        "--journal-size",
        str(args.size),
        "--no-reload",
        "--no-access-log",
    ]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples: list[tuple[int, int, int]] = []
    statuses: dict[int, int] = {}
    started = time.monotonic()
    try:
        wait_until_up(url, server)
        sent = 0
        while sent < args.requests and time.monotonic() - started < args.limit:
            count = min(args.size, args.requests - sent)
            asyncio.run(send_batch(port, sent, count, args.connections, statuses))
            sent += count
            samples.append((sent, rss_kb(server.pid), journal_entries(url)))
            print(f"{sent:>7} requests  RSS {samples[-1][1] / 1024:7.1f} MB  journal {samples[-1][2]}", flush=True)
    finally:
        server.terminate()
        server.wait(10)
    elapsed = time.monotonic() - started
    print(
        f"{sent} requests in {elapsed:.0f} s ({sent / elapsed:.0f}/s) over {args.connections} connections; "
        f"statuses {statuses}; python {sys.version.split()[0]}, {os.cpu_count()} cpus"
    )
    by_count = {n: rss for n, rss, _ in samples}
    one, four = by_count.get(args.size), by_count.get(4 * args.size)
    if one and four:
        print(f"RSS at 1x ({args.size}): {one / 1024:.1f} MB; at 4x: {four / 1024:.1f} MB; ratio {four / one:.3f}")
        last_n, last = samples[-1][0], samples[-1][1]
        print(f"RSS at {last_n // args.size}x: {last / 1024:.1f} MB; ratio to 1x {last / one:.3f}")
        return 0 if four / one <= 1.1 else 1
    print("stopped before 4x the journal size; raise --limit")
    return 1


if __name__ == "__main__":
    sys.exit(main())
