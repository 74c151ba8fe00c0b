"""`POST /teams/{team_id}/runs`: the form in, a scenario chosen, its run handed to the pipeline.

Checks run in the real server's order: auth (middleware), then the form (422), then the team
(404); then the mock's own `X-Mock-Scenario` (400 for a name the team does not have). The team
and its scenario are the request's space's (`control/choice.py`).
"""

from __future__ import annotations

import functools
import time
import uuid

import anyio
from faker import Faker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockserver.agentos.expand import build_plan
from mockserver.agentos.media import Received, agno_media, echo, parse_files_metadata, receive, template_files
from mockserver.control import ControlError
from mockserver.control.choice import SCENARIO_HEADER, choose_scenario
from mockserver.http.errors import ApiError
from mockserver.http.forms import read_form, run_form
from mockserver.http.journaling import note_form, noted, space_of
from mockserver.run.delivery import PLAIN
from mockserver.run.faults import deliver, select_fault
from mockserver.run.pipeline import RunResponse
from mockserver.run.plan import RunContext
from mockserver.scenarios.model import Team
from mockserver.scenarios.templates import human_size
from mockserver.settings import MIN_SPEED, Settings
from mockserver.state import AppState
from mockserver.wire.encoder import Encoder
from mockserver.wire.run_output import TeamRunOutputJSON
from mockserver.wire.sse import AgentOSEvents

SPEED_HEADER = "x-mock-speed"
LONG_MESSAGE = 64 * 1024
"""Characters of a message past which its run is planned in a worker thread."""


def request_speed(request: Request, default: float) -> float:
    raw = request.headers.get(SPEED_HEADER)
    if raw is None:
        return default
    try:
        speed = float(raw)
    except ValueError:
        speed = -1.0
    if not (speed == 0 or MIN_SPEED <= speed < float("inf")):
        raise ApiError(
            400,
            f"X-Mock-Speed must be 0 (no delays) or a number from {MIN_SPEED} up"
            f" (1 = as written, 2 = twice as fast); got {raw[:40]!r}",
        )
    return speed


async def create_team_run(request: Request) -> Response:
    """The endpoint; anything the form parser opened is closed when it returns."""
    try:
        return await _create_team_run(request)
    finally:
        await request.close()


def runnable(request: Request) -> Team:
    """The team (in the request's space) or the agent the path names, or AgentOS's 404."""
    state: AppState = request.app.state.mock
    if "agent_id" in request.path_params:
        agent = state.scenarios.agents.get(request.path_params["agent_id"])
        if agent is None:
            raise ApiError(404, "Agent not found")
        return agent
    team = state.teams(space_of(request)).get(request.path_params["team_id"])
    if team is None:
        raise ApiError(404, "Team not found")
    return team


async def _create_team_run(request: Request) -> Response:
    received_at = time.time()  # a scenario's head time counts from here, not after the form is read
    settings: Settings = request.app.state.mock.settings
    space = space_of(request)
    raw = await read_form(request)
    note_form(request, raw)
    form = run_form(raw)
    if len(form.message.encode()) > settings.max_message_size:
        raise ApiError(413, f"message is over the {human_size(settings.max_message_size)} limit (--max-message-size)")
    files_metadata = parse_files_metadata(form.extra.get("files_metadata"))
    team = runnable(request)
    space.sessions.check_writable(form.session_id, form.user_id)
    received = receive(form.files, files_metadata)
    encoder = AgentOSEvents() if form.stream else TeamRunOutputJSON()
    return await start_run(
        request,
        team,
        form.message,
        encoder,
        session_id=form.session_id,
        user_id=form.user_id,
        stream=form.stream,
        received=received,
        received_at=received_at,
    )


async def start_run(
    request: Request,
    team: Team,
    message: str,
    encoder: Encoder,
    *,
    session_id: str | None,
    run_id: str | None = None,
    user_id: str | None = None,
    stream: bool = True,
    received: Received | None = None,
    received_at: float | None = None,
) -> Response:
    """A run of `team` for `message`, chosen, planned, faulted and handed to the pipeline.

    Every surface (the AgentOS form, AG-UI, the AI SDK chat; teams and agents) comes through
    here with its own encoder, so the scenario, its timing, its faults, its session and its
    journal entry are the same whoever asks.
    """
    state: AppState = request.app.state.mock
    settings = state.settings
    space = space_of(request)
    facts = noted(request)
    if facts is not None and facts.fields is None:  # a JSON request: journal what it asked
        facts.fields = {"message": message, **({"session_id": session_id} if session_id else {})}
    received = received or Received()
    speed = request_speed(request, state.settings.speed)
    try:
        scenario = choose_scenario(space, team, message, request.headers.get(SCENARIO_HEADER))
    except ControlError as error:
        raise ApiError(400, str(error)) from None
    context = RunContext(
        team=team,
        scenario=scenario,
        message=message,
        session_id=session_id or str(uuid.uuid4()),
        run_id=run_id or str(uuid.uuid4()),
        user_id=user_id,
        files=template_files(received),
        media=agno_media(received),
        uploads=tuple(echo(received)),
        started_at=time.time() if received_at is None else received_at,
    )
    plan_run = functools.partial(build_plan, context, speed=speed, seed=settings.seed, max_deltas=settings.max_deltas)
    if len(message) <= LONG_MESSAGE:
        plan = plan_run(faker=state.faker)
    else:
        # Tens of ms of planning: off the loop, so /health and other streams do not wait. Its own
        # Faker (seeded per run like the shared one, so the same values) keeps the threads apart.
        plan = await anyio.to_thread.run_sync(lambda: plan_run(faker=Faker()))
    if len(plan.frames) > settings.max_frames:
        detail = f"this run would send {len(plan.frames)} frames, more than {settings.max_frames} (--max-frames)"
        raise ApiError(413, detail)
    delivery = PLAIN
    fault = select_fault(state, context, space)
    if fault is not None:
        plan, delivery = deliver(fault, plan, speed=speed, error_format=state.settings.error_format)
    return RunResponse(state, plan, delivery, encoder, stream=stream, space=space)  # type: ignore[return-value]


async def create_agent_run(request: Request) -> Response:
    """`POST /agents/{agent_id}/runs`: the same form, a stand-alone agent's run."""
    try:
        return await _create_team_run(request)
    finally:
        await request.close()


async def cancel_team_run(request: Request) -> Response:
    """200 `{}` for any run of a known team or agent, running, finished or unknown, as AgentOS answers."""
    state: AppState = request.app.state.mock
    runnable(request)
    state.live_runs.cancel(request.path_params["run_id"])
    return JSONResponse({})


routes = [
    Route("/teams/{team_id}/runs", create_team_run, methods=["POST"]),
    Route("/teams/{team_id}/runs/", create_team_run, methods=["POST"]),
    Route("/teams/{team_id}/runs/{run_id}/cancel", cancel_team_run, methods=["POST"]),
    Route("/agents/{agent_id}/runs", create_agent_run, methods=["POST"]),
    Route("/agents/{agent_id}/runs/", create_agent_run, methods=["POST"]),
    Route("/agents/{agent_id}/runs/{run_id}/cancel", cancel_team_run, methods=["POST"]),
]
