"""`POST /teams/{team_id}/runs`: the form in, a scenario chosen, its run handed to the pipeline;
and the team-run routes around it (cancel, continue, reading runs back).

Checks run in the real server's order: auth (middleware), then the form (422), then the team
(404); then the mock's own `X-Mock-Scenario` (400 for a name the team does not have). The team
and its scenario are the request's space's (`control/choice.py`).
"""

from __future__ import annotations

import functools
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, cast

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from mockserver.agentos.expand import build_plan
from mockserver.agentos.media import Received, agno_media, echo, parse_files_metadata, receive, template_files
from mockserver.agentos.sessions import Session, listed_run
from mockserver.control import ControlError
from mockserver.control.choice import SCENARIO_HEADER, choose_scenario
from mockserver.http.errors import ApiError, validation_error
from mockserver.http.forms import read_form, run_form, run_kwargs
from mockserver.http.guard import ARRIVED
from mockserver.http.journaling import note_form, noted, space_of
from mockserver.http.routing import route
from mockserver.run.background import RUNNING, BackgroundRuns, meta_frame
from mockserver.run.delivery import PLAIN
from mockserver.run.faults import deliver, select_fault
from mockserver.run.pipeline import RunResponse
from mockserver.run.plan import RunContext
from mockserver.run.stamp import Stamp
from mockserver.scenarios.fakes import SeededFaker
from mockserver.scenarios.model import Team
from mockserver.scenarios.templates import human_size
from mockserver.settings import MIN_SPEED, Settings
from mockserver.state import AppState
from mockserver.wire.encoder import Encoder
from mockserver.wire.run_output import TeamRunOutputJSON
from mockserver.wire.sse import (
    MEDIA_TYPE,
    STREAM_HEADERS,
    AgentOSEvents,
    IndexedAgentOSEvents,
    encode_frame,
    encoded,
)

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


def arrival(request: Request) -> float:
    """When the request reached the app (stamped by the outermost middleware), else now."""
    arrived = request.scope.get(ARRIVED)
    return arrived if isinstance(arrived, float) else time.time()


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
    received_at = arrival(request)  # a scenario's head time counts from here, not after the form is read
    settings: Settings = request.app.state.mock.settings
    space = space_of(request)
    raw = await read_form(request)
    note_form(request, raw)
    form = run_form(raw)
    if len(form.message.encode()) > settings.max_message_size:
        raise ApiError(413, f"message is over the {human_size(settings.max_message_size)} limit (--max-message-size)")
    session_state, metadata = run_kwargs(form.extra)
    files_metadata = parse_files_metadata(form.extra.get("files_metadata"))
    team = runnable(request)
    space.sessions.check_writable(form.session_id, form.user_id)
    received = receive(form.files, files_metadata)
    streaming = IndexedAgentOSEvents() if form.background else AgentOSEvents()
    encoder = cast(Encoder, streaming if form.stream else TeamRunOutputJSON())
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
        session_state=session_state,
        metadata=metadata,
        background=form.background,
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
    session_state: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    background: bool = False,
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
        started_at=arrival(request) if received_at is None else received_at,
        session_state=session_state,
        metadata=metadata,
    )
    plan_run = functools.partial(build_plan, context, speed=speed, seed=settings.seed, max_deltas=settings.max_deltas)
    key = state.plans.key(
        context, speed=speed, seed=settings.seed, max_deltas=settings.max_deltas, long_message=LONG_MESSAGE
    )
    plan = state.plans.get(key) if key is not None else None
    if plan is None and len(message) <= LONG_MESSAGE:
        plan = plan_run(faker=state.faker)
        if key is not None:
            plan = encoded(plan)
            state.plans.put(key, plan)
    elif plan is None:
        # Tens of ms of planning: off the loop, so /health and other streams do not wait. Its own
        # Faker (seeded per run like the shared one, so the same values) keeps the threads apart.
        plan = await anyio.to_thread.run_sync(lambda: plan_run(faker=SeededFaker()))
    if len(plan.frames) > settings.max_frames:
        detail = f"this run would send {len(plan.frames)} frames, more than {settings.max_frames} (--max-frames)"
        raise ApiError(413, detail)
    delivery = PLAIN
    fault = select_fault(state, context, space)
    if fault is not None:
        plan, delivery = deliver(fault, plan, speed=speed, error_format=state.settings.error_format)
    response = RunResponse(state, plan, Stamp(context), delivery, encoder, stream=stream, space=space)
    if background and delivery.refusal is None:
        return _background(request, response, stream=stream)
    return response  # type: ignore[return-value]


async def create_agent_run(request: Request) -> Response:
    """`POST /agents/{agent_id}/runs`: the same form, a stand-alone agent's run."""
    try:
        return await _create_team_run(request)
    finally:
        await request.close()


def _background(request: Request, response: RunResponse, *, stream: bool) -> Response:
    """Start the run in a task of its own: the client streams its frames (and may leave), or
    gets AgentOS's 202 at once for `stream=false`."""
    run = background_runs(request).start(response, request.scope, streamed=stream)
    if not stream:
        return JSONResponse({"run_id": run.run_id, "session_id": run.session_id, "status": "PENDING"}, 202)
    return StreamingResponse(run.tail(0), media_type=MEDIA_TYPE, headers=STREAM_HEADERS)


def background_runs(request: Request) -> BackgroundRuns:
    runs: BackgroundRuns = request.app.state.mock.background_runs
    return runs


async def cancel_team_run(request: Request) -> Response:
    """200 `{}` for any run of a known team or agent, running, finished or unknown, as AgentOS answers."""
    state: AppState = request.app.state.mock
    runnable(request)
    state.live_runs.cancel(request.path_params["run_id"])
    return JSONResponse({})


def _team_and_session(request: Request) -> tuple[AppState, Session]:
    """FastAPI's order: the required `session_id` (422), then the team, then the session (404)."""
    state: AppState = request.app.state.mock
    space = space_of(request)
    session_id = request.query_params.get("session_id")
    if not session_id:
        raise validation_error("session_id", "missing", "Field required", None, where="query")
    if request.path_params["team_id"] not in state.teams(space):
        raise ApiError(404, "Team not found")
    session = space.sessions.get(session_id)
    if session is None:
        raise ApiError(404, "Session not found")
    return state, session


async def list_team_runs(request: Request) -> Response:
    """`GET /teams/{team_id}/runs?session_id=`: the team's runs in the session, every stored key."""
    _, session = _team_and_session(request)
    team_id = request.path_params["team_id"]
    return JSONResponse([listed_run(r) for r in session.team_runs() if r.get("team_id") == team_id])


async def get_team_run(request: Request) -> Response:
    """`GET /teams/{team_id}/runs/{run_id}?session_id=`: one run as its TeamRunOutput."""
    _, session = _team_and_session(request)
    output = session.output(request.path_params["run_id"])
    if output is None or output.get("team_id") != request.path_params["team_id"]:
        raise ApiError(404, "Run not found")
    return JSONResponse(output)


async def continue_team_run(request: Request) -> Response:
    """The errors of `POST …/runs/{run_id}/continue` (the mock's runs never pause, so none can go on)."""
    state: AppState = request.app.state.mock
    team_id = request.path_params["team_id"]
    try:
        form = await read_form(request)
    finally:
        await request.close()
    space = space_of(request)
    if team_id not in state.teams(space):
        raise ApiError(404, "Team not found")
    session_id = form.get("session_id")
    if not isinstance(session_id, str) or not session_id:
        raise ApiError(400, "session_id is required for this action")
    run_id = request.path_params["run_id"]
    session = space.sessions.get(session_id)
    if session is not None and session.output(run_id) is not None:
        raise ApiError(409, f"Run {run_id} is not paused: the mock's runs never pause, so none can be continued")
    # AgentOS answers an unknown run with a stream holding one error frame.
    error = {
        "created_at": int(time.time()),
        "event": "TeamRunError",
        "team_id": "",
        "team_name": "",
        "nested_depth": 0,
        "content": f"No runs found for run ID {run_id}",
    }
    return Response(
        f"event: TeamRunError\ndata: {json.dumps(error, separators=(',', ':'))}\n\n",
        media_type="text/event-stream",
    )


async def resume_team_run(request: Request) -> Response:
    """`POST …/runs/{run_id}/resume`: what the client missed since `last_event_index`, then live.

    AgentOS's three paths: a run still going (catch up, then subscribe), a finished run in the
    buffer (replay), else the stored run (its events, or one `replay` frame if it kept none).
    """
    state: AppState = request.app.state.mock
    try:
        form = await read_form(request)
    finally:
        await request.close()
    if request.path_params["team_id"] not in state.teams(space_of(request)):
        raise ApiError(404, "Team not found")
    raw_index = form.get("last_event_index")
    last = -1
    if isinstance(raw_index, str) and raw_index != "":
        try:
            last = int(raw_index)
        except ValueError:
            raise validation_error(
                "last_event_index",
                "int_parsing",
                "Input should be a valid integer, unable to parse string as an integer",
                raw_index,
            ) from None
    session_id = form.get("session_id")
    session = session_id if isinstance(session_id, str) else None
    frames = _resumed(request, state, request.path_params["run_id"], last, session)
    return StreamingResponse(frames, media_type=MEDIA_TYPE, headers=STREAM_HEADERS)


async def _resumed(
    request: Request, state: AppState, run_id: str, last: int, session_id: str | None
) -> AsyncIterator[bytes]:
    run = background_runs(request).get(run_id)
    if run is not None and run.streamed:
        total = len(run.frames)
        missed = run.frames[last + 1 : total]
        if run.done:
            yield meta_frame(
                "replay",
                {
                    "event": "replay",
                    "run_id": run_id,
                    "status": run.status,
                    "total_events": len(missed),
                    "total_buffered": total,
                    "last_event_index_requested": last,
                    "message": f"Run {run.status}. Replaying {len(missed)} missed events (of {total} total).",
                },
            )
            for frame in missed:
                yield frame
            return
        if missed:
            yield meta_frame(
                "catch_up",
                {
                    "event": "catch_up",
                    "run_id": run_id,
                    "status": "running",
                    "missed_events": len(missed),
                    "current_event_count": total,
                    "message": f"Catching up on {len(missed)} missed events.",
                },
            )
            for frame in missed:
                yield frame
        yield meta_frame(
            "subscribed",
            {
                "event": "subscribed",
                "run_id": run_id,
                "status": "running",
                "current_event_count": total,
                "message": "Subscribed to team run. Receiving live events.",
            },
        )
        async for frame in run.tail(max(total, last + 1)):
            yield frame
        return
    if run is not None and not run.done:
        yield meta_frame(
            "replay",
            {
                "event": "replay",
                "run_id": run_id,
                "status": RUNNING,
                "total_events": 0,
                "message": f"Run is {RUNNING} and was submitted without streaming, so it has no event stream to attach "
                "to. Poll the run endpoint for its result.",
            },
        )
        return
    session = space_of(request).sessions.get(session_id) if session_id else None
    output = session.output(run_id) if session is not None else None
    if output is None:
        yield meta_frame("error", {"event": "error", "error": f"Run {run_id} not found in buffer or database"})
        return
    stored = [{**event, "event_index": index} for index, event in enumerate(output.get("events") or [])][last + 1 :]
    status = output.get("status", "COMPLETED")
    if not output.get("events"):
        yield meta_frame(
            "replay",
            {
                "event": "replay",
                "run_id": run_id,
                "status": status,
                "total_events": 0,
                "message": f"Run {status} with no stored events: "
                "a run submitted without streaming keeps only its final output.",
            },
        )
        return
    yield meta_frame(
        "replay",
        {
            "event": "replay",
            "run_id": run_id,
            "status": status,
            "total_events": len(stored),
            "message": "Run completed. Replaying stored events from database.",
        },
    )
    for event in stored:
        yield encode_frame(str(event.get("event", "message")), event)


routes = [
    route("/agents/{agent_id}/runs", create_agent_run, methods=["POST"]),
    route("/agents/{agent_id}/runs/{run_id}/cancel", cancel_team_run, methods=["POST"]),
    route("/teams/{team_id}/runs", create_team_run, methods=["POST"]),
    route("/teams/{team_id}/runs", list_team_runs, methods=["GET"]),
    route("/teams/{team_id}/runs/{run_id}", get_team_run, methods=["GET"]),
    route("/teams/{team_id}/runs/{run_id}/cancel", cancel_team_run, methods=["POST"]),
    route("/teams/{team_id}/runs/{run_id}/continue", continue_team_run, methods=["POST"]),
    route("/teams/{team_id}/runs/{run_id}/resume", resume_team_run, methods=["POST"]),
]
