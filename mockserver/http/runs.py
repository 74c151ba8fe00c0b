"""`POST /teams/{team_id}/runs`: the form in, a scenario chosen, its plan streamed or summed up.

Checks run in the real server's order: auth (middleware), then the form (422), then the team
(404).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockserver.http.errors import ApiError
from mockserver.run.faults import fault_response, select_fault
from mockserver.http.forms import read_form, run_form
from mockserver.agentos.output import team_run_output
from mockserver.run.plan import Frame, Plan, RunContext, build_plan
from mockserver.run.runlog import RunLog
from mockserver.scenarios.selection import select_scenario
from mockserver.wire.sse import EventStream, encode_frame
from mockserver.state import AppState
from mockserver.agentos.media import agno_media, echo, parse_files_metadata, receive, template_files

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
    """The endpoint; anything the form parser opened is closed when it returns."""
    try:
        return await _create_team_run(request)
    finally:
        await request.close()


async def _create_team_run(request: Request) -> Response:
    state: AppState = request.app.state.mock
    form = run_form(await read_form(request))
    files_metadata = parse_files_metadata(form.extra.get("files_metadata"))
    scenarios = state.scenarios
    team = scenarios.teams.get(request.path_params["team_id"])
    if team is None:
        raise ApiError(404, "Team not found")
    state.sessions.check_writable(form.session_id, form.user_id)
    received = receive(form.files, files_metadata)
    speed = request_speed(request, state.settings.speed)
    context = RunContext(
        team=team,
        scenario=select_scenario(team, form.message),
        message=form.message,
        session_id=form.session_id or str(uuid.uuid4()),
        run_id=str(uuid.uuid4()),
        user_id=form.user_id,
        files=template_files(received),
        media=agno_media(received),
        uploads=tuple(echo(received)),
    )
    plan = build_plan(context, speed=speed, seed=state.settings.seed, faker=state.faker)
    fault = select_fault(state, context)
    if fault is not None:
        response = fault_response(fault, plan, stream=form.stream, speed=speed, error_format=state.settings.error_format)
        ended = f"fault:{type(fault.action).__name__.lower()}"
        return RunLog.begin(context, stream=form.stream).around(response, ended)  # type: ignore[return-value]
    run = RunLog.begin(context, stream=form.stream)
    if form.stream:
        return EventStream(run.follow(_frames(plan, state), state.stopping))  # type: ignore[return-value]
    finished = await state.stopping.sleep(plan.frames[-1].at) if plan.frames else True
    run.finish((frame.event for frame in plan.frames), stopped=not finished)
    state.sessions.record(plan, plan.frames, stream=False)
    return JSONResponse(team_run_output(plan))


async def _frames(plan: Plan, state: AppState) -> AsyncIterator[bytes]:
    """The run's frames as SSE bytes; cancellable while it plays, recorded in its session at the end."""
    played: list[Frame] = []
    async for frame in state.live_runs.play(plan):
        played.append(frame)
        yield encode_frame(frame.event, frame.data)
    state.sessions.record(plan, played)
