"""The plan: deterministic for a request, timed by gap, jitter, pace and speed."""

from __future__ import annotations

import json
import re

from faker import Faker

from mockserver.agentos.expand import build_plan
from mockserver.agentos.fold import fold
from mockserver.run.plan import RunContext
from mockserver.run.stamp import Stamp
from mockserver.scenarios.loader import load_directory, load_text
from mockserver.scenarios.selection import select_scenario
from tests.conftest import SHIPPED

JITTERY = """\
version: 1
team: {id: t}
scenarios:
  - name: s
    gap: 100ms
    jitter: 50ms
    events:
      - text: one two three four five
        pace: 10 words/s
"""


def plan_for(team_id: str, message: str, *, seed: int = 0, speed: float = 1.0):  # type: ignore[no-untyped-def]
    team = load_directory(SHIPPED).teams[team_id]
    context = RunContext(
        team=team, scenario=select_scenario(team, message), message=message, session_id="s", run_id="r", started_at=0.0
    )
    return build_plan(context, seed=seed, speed=speed, faker=Faker())


def test_the_same_request_gives_the_same_stream() -> None:
    """Same text, tools, timing; only the ids that must be new per run (member run ids) differ."""

    def normalised(plan) -> str:  # type: ignore[no-untyped-def]
        frames = [(f.at, f.event, f.data) for f in plan.frames]
        return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", "ID", json.dumps(frames))

    assert normalised(plan_for("research-team", "solar")) == normalised(plan_for("research-team", "solar"))


def test_another_seed_or_message_changes_the_random_parts() -> None:
    def content(team: str, message: str, seed: int = 0) -> str:
        return fold(plan_for(team, message, seed=seed).frames).content

    base = content("research-team", "solar")
    assert content("research-team", "solar", seed=1) != base
    assert content("research-team", "wind") != base


def test_jitter_stays_within_its_bound_and_speed_scales_time() -> None:
    team = load_text(JITTERY)
    context = RunContext(team=team, scenario=team.scenarios[0], message="m", session_id="s", run_id="r", started_at=0.0)
    plan = build_plan(context)
    # Consecutive pairs: the shifted copy is one frame shorter, so zip stops at the last pair.
    gaps = [b.at - a.at for a, b in zip(plan.frames, plan.frames[1:], strict=False)]
    content_gaps = [g for g, f in zip(gaps, plan.frames[1:], strict=True) if f.event == "TeamRunContent"][1:]
    assert all(0.1 <= g <= 0.15 + 1e-9 for g in content_gaps) and len(set(content_gaps)) > 1
    fast = build_plan(context, speed=2)
    assert [f.at for f in fast.frames] == [f.at / 2 for f in plan.frames]
    assert {f.at for f in build_plan(context, speed=0).frames} == {0.0}


def test_metrics_and_created_at_follow_the_plan_clock() -> None:
    plan = plan_for("quick-team", "hi")
    last = Stamp(plan.context).frame(plan.frames[-1])  # started_at 0: created_at counts from the epoch
    assert last.data["metrics"]["duration"] == round(last.at, 6)
    assert last.data["created_at"] == int(last.at)
