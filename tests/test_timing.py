"""Frames arrive over time at their deadlines, speed scales them, and a gone client ends its stream."""

from __future__ import annotations

import time
from collections.abc import Iterator

import anyio
import httpx
import pytest

from mockserver.agentos.expand import build_plan, split_text
from mockserver.run.delivery import PLAIN
from mockserver.run.live import RunControl
from mockserver.run.plan import RunContext
from mockserver.run.player import Player
from mockserver.scenarios.loader import load_directory
from mockserver.scenarios.model import Pace
from mockserver.scenarios.selection import select_scenario
from mockserver.settings import Settings
from tests.conftest import TEST_SCENARIOS, run_server


@pytest.fixture(scope="module")
def timed_url() -> Iterator[str]:
    with run_server(Settings(scenarios=TEST_SCENARIOS, speed=1)) as url:
        yield url


def arrivals(url: str, message: str, headers: dict[str, str] | None = None) -> list[tuple[float, bytes]]:
    """When each HTTP chunk arrived, relative to the response head."""
    chunks = []
    with httpx.stream(
        "POST", f"{url}/teams/timing-team/runs", data={"message": message}, headers=headers, timeout=30
    ) as response:
        start = time.monotonic()
        for chunk in response.iter_raw():
            chunks.append((time.monotonic() - start, chunk))
    return chunks


def test_frames_arrive_one_per_chunk_over_time_not_at_once(timed_url: str) -> None:
    chunks = arrivals(timed_url, "paced")
    assert all(
        chunk.startswith(b"event: ") and chunk.endswith(b"\n\n") and chunk.count(b"\nevent: ") == 0
        for _, chunk in chunks
    )
    events = [chunk.split(b"\n", 1)[0][7:].decode() for _, chunk in chunks]
    assert events.count("TeamRunContent") == 10
    # The plan spaces the deltas 50 ms apart: nothing may arrive early, and the stream spreads out.
    # Deltas are due 100 ms after the head (two 50 ms gaps), then every 50 ms. Deadlines are
    # absolute, so a late one may be followed closely by the next, but none may come early.
    contents = [t for (t, _), e in zip(chunks, events, strict=True) if e == "TeamRunContent"]
    for index, arrived in enumerate(contents):
        assert arrived >= 0.1 + 0.05 * index - 0.02, index
    assert contents[-1] >= 0.53


def test_speed_header_scales_the_delays(timed_url: str) -> None:
    started = time.monotonic()
    chunks = arrivals(timed_url, "long", headers={"X-Mock-Speed": "0"})
    assert time.monotonic() - started < 5  # the scenario is written to take about 14 s
    assert b"TeamRunCompleted" in chunks[-1][1]


def test_player_keeps_absolute_deadlines() -> None:
    """A slow consumer does not push later frames back: deadlines are from the start."""
    scenarios = load_directory(TEST_SCENARIOS)
    team = scenarios.teams["timing-team"]
    plan = build_plan(
        RunContext(team=team, scenario=select_scenario(team, "paced"), message="paced", session_id="s", run_id="r")
    )

    async def consume() -> list[float]:
        start = anyio.current_time()
        seen = []
        async for index, frame in _enumerate(_frames(plan)):
            seen.append(anyio.current_time() - start - frame.at)
            if index == 2:
                time.sleep(0.2)  # block the loop: the frames due meanwhile come at once after
        return seen

    lateness = anyio.run(consume)
    assert min(lateness) >= -0.001
    assert lateness[-1] < 0.1  # caught up: the 200 ms stall did not shift the end


async def _frames(plan):  # type: ignore[no-untyped-def]
    async for batch in Player(plan, PLAIN, RunControl()).batches():
        for frame in batch or ():
            yield frame


async def _enumerate(iterator):  # type: ignore[no-untyped-def]
    index = 0
    async for item in iterator:
        yield index, item
        index += 1


def test_a_client_that_leaves_ends_its_stream(timed_url: str) -> None:
    with httpx.stream("POST", f"{timed_url}/teams/timing-team/runs", data={"message": "long"}, timeout=30) as response:
        first = next(response.iter_raw())
        assert first.startswith(b"event: TeamRunStarted")
    # The server must stay responsive and finish other runs while the abandoned one is gone.
    response = httpx.post(
        f"{timed_url}/teams/timing-team/runs", data={"message": "paced"}, headers={"X-Mock-Speed": "0"}
    )
    assert response.status_code == 200


def test_text_splitting_joins_back_exactly() -> None:
    text = "## Title\n\nSome *markdown* with  two spaces,\ttabs and a `code`   block.\n"
    for unit in ("words", "tokens"):
        deltas = split_text(text, Pace(unit=unit))  # type: ignore[arg-type]
        assert "".join(deltas) == text and len(deltas) > 5
