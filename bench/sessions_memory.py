"""Does the session store stay bounded? Memory after 4x its limit of runs vs after 1x.

Records research-team runs (member runs, tools, events: the biggest shipped records) straight
into a `SessionStore`, one new session per run, and measures live memory with tracemalloc.
A bounded store gives a ratio near 1.0; an unbounded one would give about 4.0.

    python bench/sessions_memory.py [limit]      (limit 300: about a minute; tracemalloc is slow)
"""

from __future__ import annotations

import gc
import sys
import tracemalloc
import uuid
from pathlib import Path

from faker import Faker

from mockserver.agentos.expand import build_plan
from mockserver.agentos.fold import fold
from mockserver.agentos.sessions import SessionStore
from mockserver.run.plan import RunContext
from mockserver.scenarios.loader import load_directory
from mockserver.scenarios.model import Team
from mockserver.scenarios.selection import select_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def record_runs(store: SessionStore, count: int, team: Team, faker: Faker) -> None:
    for index in range(count):
        message = f"question {index}"
        context = RunContext(
            team=team,
            scenario=select_scenario(team, message),
            message=message,
            session_id=str(uuid.uuid4()),
            run_id=str(uuid.uuid4()),
        )
        plan = build_plan(context, speed=0, faker=faker)
        store.record(plan, fold(plan.frames), plan.frames)


def main(limit: int) -> None:
    team = load_directory(SCENARIOS).teams["research-team"]
    faker = Faker()
    store = SessionStore(limit)
    tracemalloc.start()
    record_runs(store, limit, team, faker)
    gc.collect()
    at_limit = tracemalloc.get_traced_memory()[0]
    record_runs(store, 3 * limit, team, faker)
    gc.collect()
    at_four = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    print(f"limit {limit}: {len(store)} sessions kept after {4 * limit} runs")
    print(
        f"memory after {limit} runs: {at_limit / 1e6:.1f} MB; "
        f"after {4 * limit}: {at_four / 1e6:.1f} MB; ratio {at_four / at_limit:.2f}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
