"""CPU time of one run inside the app, without sockets: the ASGI app called directly, speed 0.

What the server itself spends on a request (form, plan, encoder, pipeline, run log, session
store) with no HTTP server or client in the way, in CPU seconds of this process, so other work
on the machine disturbs it less than a wall-clock figure. `--profile` prints cProfile's top
functions by their own time. To compare with another checkout, run it with that checkout's
package first on the path (`PYTHONPATH=/path/to/other python bench/inprocess.py`) from a
folder without a `mockserver/`.

Run: python bench/inprocess.py [--team research-team] [--runs 300] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import pstats
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loadgen

from mockserver.app import create_app
from mockserver.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def request_parts(team: str) -> tuple[dict[str, Any], bytes]:
    """The ASGI scope and body of loadgen's multipart request."""
    head, _, body = loadgen.run_request(team).partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    method, path, _ = lines[0].split(b" ")
    headers = [(name.lower(), value) for name, _, value in (line.partition(b": ") for line in lines[1:])]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method.decode(),
        "scheme": "http",
        "path": path.decode(),
        "raw_path": path,
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 7777),
        "state": {},
    }
    return scope, body


async def one_run(app: Any, scope: dict[str, Any], body: bytes, sink: list[bytes] | None = None) -> None:
    """One request through `app`; the response body's parts go to `sink`, if given."""
    delivered = False
    over = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await over.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if sink is not None and message["type"] == "http.response.body" and message.get("body"):
            sink.append(message["body"])

    await app(dict(scope), receive, send)
    over.set()


async def runs(app: Any, scope: dict[str, Any], body: bytes, count: int) -> None:
    for _ in range(count):
        await one_run(app, scope, body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--team", default="research-team")
    parser.add_argument("--scenarios", type=Path, default=ROOT / "scenarios")
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    logging.getLogger("mockserver").setLevel(logging.WARNING)
    app = create_app(Settings(scenarios=args.scenarios, speed=0))
    scope, body = request_parts(args.team)
    asyncio.run(runs(app, scope, body, 20))  # warm up: imports, Faker, caches
    started = time.process_time()
    asyncio.run(runs(app, scope, body, args.runs))
    seconds = time.process_time() - started
    print(f"{args.team}: {args.runs} runs, {seconds / args.runs * 1000:.2f} ms of CPU a run")
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(asyncio.run, runs(app, scope, body, args.runs))
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
