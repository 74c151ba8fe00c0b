"""Injected failures: which fault rule fires for a request, and the response that plays it.

Rules are tried before normal scenario selection, in file order and then in the order of each
file's `faults:` list; the first that covers the team, matches the message and fires wins.
Flaky counters live in `AppState.fault_counts`; a probabilistic rule's n-th draw for a team
comes from a generator seeded with the server seed, the rule and n, so the same seed gives the
same failures in the same order however other teams' requests interleave.

Timing: `latency`, `slow`, a stall's hold and its keep-alive interval are wall-clock times (the
fault itself, so `--speed 0` does not remove them); `after: 1.5s` is a point in the scenario's
own timeline and scales with the speed like the scenario does.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import AsyncIterator
from dataclasses import replace
from http import HTTPStatus
from typing import Any

import anyio
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.agentos.cancel import cancel_frames
from mockserver.http.errors import ERROR_CODES, ApiError, error_response
from mockserver.agentos.events import TEAM_ENVELOPE
from mockserver.scenarios.faultrules import (
    Cancel,
    Cut,
    Drop,
    FaultRule,
    HttpFailure,
    RunError,
    Slow,
    Stall,
)
from mockserver.agentos.output import team_run_output
from mockserver.run.plan import Frame, Plan, RunContext, completed_tool_ids
from mockserver.run.player import play
from mockserver.wire.sse import EventStream, encode_comment, encode_frame
from mockserver.state import AppState

DEFAULT_DETAILS: dict[int, str] = {
    400: "Bad request",
    401: "Invalid authentication token",
    403: "Forbidden",
    404: "Team not found",
    408: "Request timeout",
    409: "Conflict",
    413: "Request entity too large",
    422: "Validation error",
    429: "Rate limit exceeded",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}
DEFAULT_HEADERS: dict[int, tuple[tuple[str, str], ...]] = {
    429: (("Retry-After", "30"),),
    503: (("Retry-After", "30"),),
}
KEEP_ALIVE = "keep-alive"


def select_fault(state: AppState, context: RunContext) -> FaultRule | None:
    """The first rule that covers the team, matches the message and fires this time, if any."""
    team_id = context.team.id
    for team in state.scenarios.teams.values():
        for rule in team.faults:
            if not rule.covers(team_id) or (rule.match is not None and not rule.match.search(context.message)):
                continue
            if _fires(state, rule, team_id, context.session_id):
                return rule
    return None


def _fires(state: AppState, rule: FaultRule, team_id: str, session_id: str) -> bool:
    if rule.times is None and rule.probability is None:
        return True
    counter = (rule.key, team_id, session_id if rule.per == "session" and rule.times is not None else "")
    seen = state.fault_counts.get(counter, 0)
    state.fault_counts[counter] = seen + 1
    if rule.times is not None:
        return seen < rule.times
    assert rule.probability is not None
    draw = random.Random(f"{state.settings.seed}\x00{rule.key}\x00{team_id}\x00{seen}").random()
    return draw < rule.probability


def fault_response(rule: FaultRule, plan: Plan, *, stream: bool, speed: float, error_format: str) -> ASGIApp:
    """The response that plays `rule` on this run's `plan`: nothing here touches the request."""
    action = rule.action
    latency = rule.latency
    if isinstance(action, HttpFailure):
        return Delayed(http_failure(action, error_format), latency)
    if isinstance(action, Slow):
        return _answer(plan, stream, latency)
    index = cut_index(plan, rule.cut, speed, at_least=0 if isinstance(action, (Drop, Stall)) else 1)
    if isinstance(action, RunError):
        return _answer(with_run_error(plan, index, action), stream, latency)
    if isinstance(action, Cancel):
        return _answer(with_cancel(plan, index), stream, latency)
    if isinstance(action, Drop):
        if stream:
            return Delayed(Unfinished(EventStream(_encoded(play(replace(plan, frames=plan.frames[:index]))))), latency)
        return Delayed(Unfinished(JSONResponse(team_run_output(plan))), latency + _end(plan))
    assert isinstance(action, Stall)
    if stream:
        return Delayed(EventStream(_encoded(stalled(plan.frames, index, action))), latency)
    hold = math.inf if action.hold is None else action.hold
    return Delayed(JSONResponse(team_run_output(plan)), latency + _end(plan) + hold)


def http_failure(failure: HttpFailure, error_format: str) -> Response:
    status = failure.status
    headers = dict(DEFAULT_HEADERS.get(status, ()))
    headers.update(failure.headers)
    if failure.body is not None:
        if isinstance(failure.body, str):
            headers.setdefault("content-type", "text/plain; charset=utf-8")
            return Response(failure.body, status, headers=headers)
        return JSONResponse(failure.body, status, headers=headers)
    phrase = HTTPStatus(status).phrase
    detail = failure.detail or DEFAULT_DETAILS.get(status, phrase)
    code = ERROR_CODES.get(status, HTTPStatus(status).name)
    return error_response(ApiError(status, detail, error_code=code, headers=headers), error_format)


def cut_index(plan: Plan, cut: Cut, speed: float, *, at_least: int) -> int:
    """How many frames go out before the fault; never the terminal one, which the fault replaces."""
    frames = plan.frames
    if cut.seconds is not None:
        moment = cut.seconds / speed if speed > 0 else 0.0
        count = sum(1 for frame in frames if frame.at < moment)
    else:
        count = 1 if cut.events is None else cut.events
    return max(0, min(max(at_least, count), len(frames) - 1))


def _envelope(plan: Plan, event: str, at: float) -> dict[str, Any]:
    first = plan.frames[0].data
    data = {key: first[key] for key in TEAM_ENVELOPE}
    data.update(created_at=int(plan.context.started_at + at), event=event)
    return data


def _kept(plan: Plan, index: int) -> Plan:
    """The plan's first `index` frames, with only the tool calls and member runs they finished."""
    frames = plan.frames[:index]
    done = completed_tool_ids(frames)
    members = {f.data.get("run_id") for f in frames if f.event == "RunCompleted"}
    return replace(
        plan,
        frames=frames,
        tools=[t for t in plan.tools if t.get("tool_call_id") in done],
        member_responses=[m for m in plan.member_responses if m.get("run_id") in members],
    )


def with_run_error(plan: Plan, index: int, error: RunError) -> Plan:
    """The frames before the cut, then `TeamRunError` where the next frame was due (as in
    `l1_model_error_stream`); the non-streamed body is the 200 `status: ERROR` one."""
    at = plan.frames[index].at
    data = _envelope(plan, "TeamRunError", at)
    data.update(content=error.content, error_type=error.error_type)
    if error.error_id is not None:
        data["error_id"] = error.error_id
    kept = _kept(plan, index)
    kept.frames.append(Frame(at=at, event="TeamRunError", data=data))
    kept.status, kept.content, kept.error = "ERROR", error.content, data
    return kept


def with_cancel(plan: Plan, index: int) -> Plan:
    """The frames before the cut, then the frames a cancel at that moment ends a run with
    (`cancel.cancel_frames`: `TeamRunCancelled` and `TeamRunCompleted`, as in `i1`/`i7`)."""
    at = plan.frames[index].at
    kept = _kept(plan, index)
    closing = cancel_frames(plan, kept.frames, at)
    kept.frames += closing
    kept.status, kept.content = "CANCELLED", closing[-1].data["content"]
    kept.member_responses = closing[-1].data.get("member_responses", [])
    return kept


def _end(plan: Plan) -> float:
    return plan.frames[-1].at if plan.frames else 0.0


def _answer(plan: Plan, stream: bool, latency: float) -> ASGIApp:
    if stream:
        return Delayed(EventStream(_encoded(play(plan))), latency)
    return Delayed(JSONResponse(team_run_output(plan)), latency + _end(plan))


async def stalled(frames: list[Frame], index: int, stall: Stall) -> AsyncIterator[Frame | str]:
    """`frames[:index]` on time, then only keep-alive comments (if any) for the hold, then the
    rest shifted by the hold; with no hold, comments until the client leaves."""
    start = anyio.current_time()
    for frame in frames[:index]:
        await _until(start + frame.at)
        yield frame
    since = start + frames[index].at
    hold = math.inf if stall.hold is None else stall.hold
    if stall.keep_alive is not None:
        beat = 1
        while stall.keep_alive * beat < hold:
            await _until(since + stall.keep_alive * beat)
            yield KEEP_ALIVE
            beat += 1
    if hold == math.inf:
        await anyio.sleep_forever()
    for frame in frames[index:]:
        await _until(start + frame.at + hold)
        yield frame


async def _until(deadline: float) -> None:
    delay = deadline - anyio.current_time()
    if delay > 0:
        await anyio.sleep(delay)


async def _encoded(items: AsyncIterator[Frame | str]) -> AsyncIterator[bytes]:
    try:
        async for item in items:
            yield encode_comment(item) if isinstance(item, str) else encode_frame(item.event, item.data)
    finally:
        await items.aclose()  # type: ignore[attr-defined]


class Delayed:
    """Wait `seconds` before running `app` (nothing is sent meanwhile, not even the head);
    a client that leaves during the wait ends it at once and `app` never runs."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.seconds > 0 and await _left_during(receive, self.seconds):
            return
        await self.app(scope, receive, send)


async def _left_during(receive: Receive, seconds: float) -> bool:
    gone = False
    async with anyio.create_task_group() as group:

        async def listen() -> None:
            nonlocal gone
            while (await receive())["type"] != "http.disconnect":
                pass
            gone = True
            group.cancel_scope.cancel()

        group.start_soon(listen)
        if seconds == math.inf:
            await anyio.sleep_forever()
        else:
            await anyio.sleep(seconds)
        group.cancel_scope.cancel()
    return gone


class Unfinished:
    """Run `app` but never let it finish its response: the last body message is cut in half
    (for a stream it is the empty terminator, so no `0` chunk goes out) and the connection
    closes, so the client sees an incomplete response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def unfinished(message: Message) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                body = message.get("body", b"")
                if body:
                    await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
                return
            await send(message)

        await self.app(scope, receive, unfinished)
        await _hang_up(receive)


async def _hang_up(receive: Receive) -> None:
    """Close the connection under the response.

    ASGI has no message for "abort"; returning with the response unfinished makes every server
    close the connection, but uvicorn also logs it as an application error. Under uvicorn the
    receive callable belongs to the connection's request cycle, whose transport we close
    ourselves and then wait for the disconnect, so the log stays quiet. Elsewhere returning is
    enough.
    """
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    if not isinstance(transport, asyncio.BaseTransport):
        return
    transport.close()
    with anyio.move_on_after(1):
        while (await receive())["type"] != "http.disconnect":
            pass
