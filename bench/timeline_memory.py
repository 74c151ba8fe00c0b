"""What the journal's per-run `timeline` (drawn by the dashboard) costs in memory.

Serves the shipped scenarios at speed 0 in this process, sends `--runs` research-team runs
(the longest shipped run, about 180 frames) and `--runs` quick-team runs, then measures the
journal's entries object by object (each object counted once, as the journal holds them): the
whole entries, and their `timeline` values alone.

    python bench/timeline_memory.py --runs 200
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from mockserver.app import create_app
from mockserver.settings import Settings

SHIPPED = Path(__file__).resolve().parent.parent / "scenarios"


def deep_size(value: Any, seen: set[int]) -> int:
    if id(value) in seen:
        return 0
    seen.add(id(value))
    size = sys.getsizeof(value)
    if isinstance(value, dict):
        size += sum(deep_size(k, seen) + deep_size(v, seen) for k, v in value.items())
    elif isinstance(value, (list, tuple)):
        size += sum(deep_size(item, seen) for item in value)
    return size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    app = create_app(Settings(scenarios=SHIPPED, speed=0, journal_size=10 * args.runs, access_log=False))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        for team in ("research-team", "quick-team"):
            for n in range(args.runs):
                client.post(f"/teams/{team}/runs", data={"message": f"question {n}"}).raise_for_status()
    server.should_exit = True
    thread.join(10)
    entries = list(app.state.mock.space().journal)
    for team in ("research-team", "quick-team"):
        mine = [e for e in entries if e["team_id"] == team]
        whole = deep_size(mine, set())
        timelines = deep_size([e["timeline"] for e in mine], set())
        frames = sum(len(e["timeline"]["frames"]) for e in mine) / len(mine)
        wire = sum(len(json.dumps(e["timeline"])) for e in mine) / len(mine)
        print(
            f"{team:14} {len(mine)} entries, {frames:.0f} frames each: entry {whole / len(mine) / 1024:.1f} KB, "
            f"timeline {timelines / len(mine) / 1024:.1f} KB in memory ({wire / 1024:.1f} KB as JSON)"
        )
    print(f"python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
