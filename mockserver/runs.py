"""`POST /teams/{team_id}/runs`: the form in, a scenario chosen, its plan streamed or summed up.

Checks run in the real server's order: auth (middleware), then the form (422), then the team
(404).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockserver.errors import ApiError
from mockserver.forms import read_form, run_form
from mockserver.output import team_run_output
from mockserver.plan import Plan, RunContext, build_plan
from mockserver.player import play
from mockserver.runlog import RunLog
from mockserver.selection import select_scenario
from mockserver.sse import EventStream, encode_frame
from mockserver.state import AppState

SPEED_HEADER = "x-mock-speed"


def request_speed(request: Request, default: float) -> float:
    raw = request.headers.get(SPEED_HEADER)
    if raw is None:
        return default
    try:
        speed = float(raw)
    except ValueError:
        speed = -1.0
    if not speed >= 0 or speed == float("inf"):
        raise ApiError(400, f"X-Mock-Speed must be a number >= 0 (0 = no delays, 1 = as written, 2 = twice as fast); got {raw!r}")
    return speed


async def create_team_run(request: Request) -> Response:
    state: AppState = request.app.state.mock
    form = run_form(await read_form(request))
    scenarios = state.scenarios
    team = scenarios.teams.get(request.path_params["team_id"])
    if team is None:
        raise ApiError(404, "Team not found")
    speed = request_speed(request, state.settings.speed)
    context = RunContext(
        team=team,
        scenario=select_scenario(team, form.message),
        message=form.message,
        session_id=form.session_id or str(uuid.uuid4()),
        run_id=str(uuid.uuid4()),
        user_id=form.user_id,
    )
    plan = build_plan(context, speed=speed, seed=state.settings.seed, faker=state.faker)
    run = RunLog.begin(context, stream=form.stream)
    if form.stream:
        return EventStream(run.follow(_frames(plan), state.stopping))  # type: ignore[return-value]
    finished = await state.stopping.sleep(plan.frames[-1].at) if plan.frames else True
    run.finish((frame.event for frame in plan.frames), stopped=not finished)
    return JSONResponse(team_run_output(plan))


async def _frames(plan: Plan) -> AsyncIterator[bytes]:
    async for frame in play(plan):
        yield encode_frame(frame.event, frame.data)
