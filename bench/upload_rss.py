"""Upload a large file to a real mockserver process; report MB/s and the server's peak RSS growth.

    python bench/upload_rss.py            # 1 GiB, as in bench/RESULTS.md
    python bench/upload_rss.py --mib 256  # quicker

The body is generated on the fly (a 1 MiB random block, repeated), so nothing large touches
the disk on the client side. The same uploads also go, in the same run, to a bare uvicorn app
that only reads the body, and to a Starlette app doing what forms.py did before (request.form(),
which spools the file to a temporary file, then a SHA-256): `ratio` is the mock's MiB/s over
theirs.
Peak RSS is the server's VmHWM from /proc (Linux) after all uploads, minus its VmRSS just
before the first one.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOUNDARY = "benchBoundary7MA4YWxkTrZu0gW"
DRAIN_APP = """
import uvicorn
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"size": %d}' % size})
uvicorn.run(app, host="127.0.0.1", port=int(__import__("sys").argv[1]), log_level="warning")
"""
# What forms.py did before: Starlette's request.form() (spooled to a temporary file), then a hash.
STARLETTE_FORM_APP = """
import hashlib, uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
async def runs(request):
    async with request.form(max_part_size=1024 * 1024) as form:
        upload = form["files"]
        digest, size = hashlib.sha256(), 0
        while chunk := await upload.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return JSONResponse({"size": size, "sha256": digest.hexdigest()})
app = Starlette(routes=[Route("/", runs, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(__import__("sys").argv[1]), log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def start(command: list[str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"server on port {port} did not start")


def multipart(mib: int, digest: hashlib._Hash) -> tuple[int, Iterator[bytes]]:
    """(length, chunks) of a form with `message`, `stream=false` and one `mib` MiB PNG."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="message"\r\n\r\nbenchmark\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="stream"\r\n\r\nfalse\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="big.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    block = os.urandom(1024 * 1024)
    while BOUNDARY.encode() in block:
        block = os.urandom(1024 * 1024)

    def chunks() -> Iterator[bytes]:
        yield head
        for _ in range(mib):
            digest.update(block)
            yield block
        yield tail

    return len(head) + mib * len(block) + len(tail), chunks()


def upload(port: int, path: str, mib: int) -> tuple[float, int, bytes, str]:
    """(seconds, status, body, sha256 sent) of one upload."""
    digest = hashlib.sha256()
    length, chunks = multipart(mib, digest)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    began = time.perf_counter()
    connection.putrequest("POST", path)
    connection.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
    connection.putheader("Content-Length", str(length))
    connection.endheaders()
    for chunk in chunks:
        connection.send(chunk)
    response = connection.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - began
    connection.close()
    return elapsed, response.status, body, digest.hexdigest()


def measure_mock(mib: int, rounds: int) -> dict[str, float]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "mockserver",
        "serve",
        "--port",
        str(port),
        "--speed",
        "0",
        "--max-upload-size",
        f"{mib + 1}MB",
    ]
    server = start(command, port)
    try:
        upload(port, "/teams/quick-team/runs", 1)  # warm up: imports, first request
        before = memory(server.pid)
        times = []
        for _ in range(rounds):
            seconds, status, body, sent = upload(port, "/teams/quick-team/runs", mib)
            assert status == 200, body[:300]
            echoed = json.loads(body)["mock_uploads"][0]
            assert echoed["size"] == mib * 1024 * 1024 and echoed["sha256"] == sent, echoed
            times.append(seconds)
        after = memory(server.pid)
        seconds = statistics.median(times)
        return {
            "seconds": seconds,
            "mb_per_s": mib / seconds,
            "rss_before_mib": before["VmRSS"] / 1024,
            "peak_rss_mib": after["VmHWM"] / 1024,
            "peak_growth_mib": (after["VmHWM"] - before["VmRSS"]) / 1024,
        }
    finally:
        server.terminate()
        server.wait(timeout=10)


def measure_baseline(app: str, mib: int, rounds: int) -> float:
    port = free_port()
    server = start([sys.executable, "-c", app, str(port)], port)
    try:
        upload(port, "/", 1)
        times = []
        for _ in range(rounds):
            seconds, status, _, _ = upload(port, "/", mib)
            assert status == 200
            times.append(seconds)
        return mib / statistics.median(times)
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024, help="size of the uploaded file in MiB (default: 1024)")
    parser.add_argument("--rounds", type=int, default=3, help="uploads per server; the median is reported (default: 3)")
    args = parser.parse_args()
    mock = measure_mock(args.mib, args.rounds)
    drain = measure_baseline(DRAIN_APP, args.mib, args.rounds)
    form = measure_baseline(STARLETTE_FORM_APP, args.mib, args.rounds)
    print(
        f"upload of {args.mib} MiB x {args.rounds} (multipart, one file, stream=false), "
        f"python {sys.version.split()[0]}, median shown"
    )
    print(f"  mockserver : {mock['mb_per_s']:8.1f} MiB/s  ({mock['seconds']:.2f} s), size and sha256 echoed correctly")
    print(
        f"  bare drain : {drain:8.1f} MiB/s  (uvicorn app that only reads the body)  "
        f"ratio {mock['mb_per_s'] / drain:.2f}"
    )
    print(
        f"  old forms  : {form:8.1f} MiB/s  (Starlette request.form() + sha256)    ratio {mock['mb_per_s'] / form:.2f}"
    )
    print(
        f"  server RSS : {mock['rss_before_mib']:.1f} MiB before, peak {mock['peak_rss_mib']:.1f} MiB, "
        f"growth {mock['peak_growth_mib']:.1f} MiB (limit 50)"
    )
    if mock["peak_growth_mib"] >= 50:
        raise SystemExit("FAIL: peak RSS grew by 50 MiB or more")


if __name__ == "__main__":
    main()
