"""What the run log's stream wrapper (RunLog.follow) costs per frame, as a ratio.

Plays the shipped research-team plan at speed 0 through the endpoint's frame encoder, bare
and wrapped (counting, the shutdown scope, the log line), in one process and one run, and
prints frames per second of each and their ratio. Logging goes to a null handler.

    python bench/runlog_overhead.py [rounds]
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from pathlib import Path

import anyio
from faker import Faker

from mockserver.scenarios.loader import load_directory
from mockserver.run.plan import RunContext, build_plan
from mockserver.run.runlog import RunLog
from mockserver.http.runs import _frames
from mockserver.run.shutdown import Stopping

ROOT = Path(__file__).resolve().parent.parent


async def consume(chunks) -> int:  # type: ignore[no-untyped-def]
    count = 0
    async for _ in chunks:
        count += 1
    return count


async def main(rounds: int) -> None:
    logging.getLogger("mockserver").addHandler(logging.NullHandler())
    logging.getLogger("mockserver").propagate = False
    team = load_directory(ROOT / "scenarios").teams["research-team"]
    context = RunContext(team=team, scenario=team.scenarios[0], message="hi", session_id="s", run_id=str(uuid.uuid4()))
    plan = build_plan(context, speed=0, seed=0, faker=Faker())
    stopping = Stopping()
    timings = {"bare": 0.0, "wrapped": 0.0}
    frames = 0
    for _ in range(rounds):  # interleaved, so drift of the machine hits both alike
        start = time.perf_counter()
        frames += await consume(_frames(plan))
        timings["bare"] += time.perf_counter() - start
        start = time.perf_counter()
        await consume(RunLog.begin(context, stream=True).follow(_frames(plan), stopping))
        timings["wrapped"] += time.perf_counter() - start
    for name, seconds in timings.items():
        print(f"{name:8} {frames / seconds:12,.0f} frames/s")
    print(f"wrapped/bare time ratio: {timings['wrapped'] / timings['bare']:.2f} ({len(plan.frames)} frames a run, {rounds} runs each)")


if __name__ == "__main__":
    anyio.run(main, int(sys.argv[1]) if len(sys.argv) > 1 else 300)
