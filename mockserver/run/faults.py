"""Injected failures: which fault rule fires for a request, and the delivery that plays it.

Rules are tried before normal scenario selection, in file order and then in the order of each
file's `faults:` list; the first that covers the team, matches the message and fires wins.
Flaky counters live in the request's space (`Space.fault_counts`), the least recently counted
dropped past `--max-fault-counters` for all spaces together (a `per: session` rule counts every
session id it sees); a
probabilistic rule's n-th draw for a team comes from a generator seeded with the server seed,
the rule and n, so the same seed gives the same failures in the same order however other teams' requests interleave.

Timing: `latency`, `slow`, a stall's hold and its keep-alive interval are wall-clock times (the
fault itself, so `--speed 0` does not remove them); `after: 1.5s` is a point in the scenario's
own timeline and scales with the speed like the scenario does.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import replace
from http import HTTPStatus
from typing import Any

from starlette.responses import JSONResponse, Response

from mockserver.agentos.frames import run_frame
from mockserver.run.delivery import Delivery
from mockserver.run.plan import Plan, RunContext
from mockserver.scenarios.faultrules import Action, Cancel, Cut, Drop, FaultRule, HttpFailure, RunError, Slow, Stall
from mockserver.wire.errors import ERROR_CODES, error_json

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


def select_fault(state: Any, context: RunContext, space: Any = None) -> FaultRule | None:
    """The first rule that covers the team, matches the message and fires this time, if any.

    Counters are those of `space` (the request's namespace; default: the default one)."""
    space = space if space is not None else state.space()
    team_id = context.team.id
    for team in [*state.teams(space).values(), *state.scenarios.agents.values()]:
        for rule in team.faults:
            if not rule.covers(team_id) or (rule.match is not None and not rule.match.search(context.message)):
                continue
            if _fires(state.settings.seed, space.fault_counts, rule, team_id, context.session_id):
                state.bound_counters(space)
                return rule
    state.bound_counters(space)
    return None


def _fires(seed: int, counts: dict[tuple[str, str, str], int], rule: FaultRule, team_id: str, session_id: str) -> bool:
    if rule.times is None and rule.probability is None:
        return True
    counter = (rule.key, team_id, session_id if rule.per == "session" and rule.times is not None else "")
    seen = counts.pop(counter, 0)
    counts[counter] = seen + 1  # last in the dict: the least recently counted is first (`state.bound_counters`)
    if rule.times is not None:
        return seen < rule.times
    assert rule.probability is not None
    draw = random.Random(f"{seed}\x00{rule.key}\x00{team_id}\x00{seen}").random()
    return draw < rule.probability


Deliver = Callable[[FaultRule, Plan, float, str], "tuple[Plan, Delivery]"]


def deliver(rule: FaultRule, plan: Plan, *, speed: float, error_format: str) -> tuple[Plan, Delivery]:
    """The plan as `rule` has it played, and how: nothing here touches the request."""
    return DELIVERIES[type(rule.action)](rule, plan, speed, error_format)


def _status(rule: FaultRule, plan: Plan, speed: float, error_format: str) -> tuple[Plan, Delivery]:
    assert isinstance(rule.action, HttpFailure)
    return plan, _delivery(rule, refusal=http_failure(rule.action, error_format))


def _slow(rule: FaultRule, plan: Plan, speed: float, error_format: str) -> tuple[Plan, Delivery]:
    return plan, _delivery(rule)


def _run_error(rule: FaultRule, plan: Plan, speed: float, error_format: str) -> tuple[Plan, Delivery]:
    assert isinstance(rule.action, RunError)
    return with_run_error(plan, cut_index(plan, rule.cut, speed, at_least=1), rule.action), _delivery(rule)


def _cancel(rule: FaultRule, plan: Plan, speed: float, error_format: str) -> tuple[Plan, Delivery]:
    return plan, _delivery(rule, cancel_at=cut_index(plan, rule.cut, speed, at_least=1))


def _drop(rule: FaultRule, plan: Plan, speed: float, error_format: str) -> tuple[Plan, Delivery]:
    return plan, _delivery(rule, cut_at=cut_index(plan, rule.cut, speed, at_least=0))


def _stall(rule: FaultRule, plan: Plan, speed: float, error_format: str) -> tuple[Plan, Delivery]:
    stall = rule.action
    assert isinstance(stall, Stall)
    hold = math.inf if stall.hold is None else stall.hold
    index = cut_index(plan, rule.cut, speed, at_least=0)
    return plan, _delivery(rule, hold_at=index, hold=hold, keep_alive=stall.keep_alive)


DELIVERIES: dict[type[Action], Deliver] = {
    HttpFailure: _status,
    RunError: _run_error,
    Cancel: _cancel,
    Drop: _drop,
    Stall: _stall,
    Slow: _slow,
}
"""What plays each fault kind: the one place a new kind is played."""


def _delivery(rule: FaultRule, **how: Any) -> Delivery:
    return Delivery(head_delay=rule.latency, fault=rule.kind, **how)


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
    return error_json(status, detail, error_format, error_code=code, headers=headers)


def cut_index(plan: Plan, cut: Cut, speed: float, *, at_least: int) -> int:
    """How many frames go out before the fault; never the terminal one, which the fault replaces."""
    frames = plan.frames
    if cut.seconds is not None:
        moment = cut.seconds / speed if speed > 0 else 0.0
        count = sum(1 for frame in frames if frame.at < moment)
    else:
        count = 1 if cut.events is None else cut.events
    return max(0, min(max(at_least, count), len(frames) - 1))


def with_run_error(plan: Plan, index: int, error: RunError) -> Plan:
    """The frames before the cut, then `TeamRunError` where the next frame was due (as in
    `l1_model_error_stream`); the non-streamed body is the 200 `status: ERROR` one."""
    at = plan.frames[index].at
    fields = {"content": error.content, "error_type": error.error_type}
    if error.error_id is not None:
        fields["error_id"] = error.error_id
    return replace(plan, frames=(*plan.frames[:index], run_frame(plan.context, "RunError", at, **fields)))
