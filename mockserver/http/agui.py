"""AG-UI endpoints, as agno 3.1.10's `AGUI` interface serves them: `RunAgentInput` in, events out.

`POST /agui` runs the team `forwardedProps.team_id` (or the agent `forwardedProps.agent_id`)
names, else `--agui-default`; `POST /teams/{team_id}/agui` and `POST /agents/{agent_id}/agui`
name it in the path. The run is the same one
`POST /teams/{team_id}/runs` plays (scenario, timing, faults, session); only the encoder differs.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockserver.http.errors import validation_error
from mockserver.http.journaling import space_of
from mockserver.http.jsonbody import field, pick_agent, pick_team, read_json
from mockserver.http.runs import start_run
from mockserver.state import AppState


def user_input(messages: list[Any]) -> str:
    """The last user message's text, as agno's `extract_user_input` reads it."""
    for message in reversed(messages):
        if message.get("role") != "user" or message.get("content") is None:
            continue
        content = message["content"]
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            texts = [p["text"] for p in content if isinstance(p, dict) and p.get("type") == "text" and "text" in p]
            if texts:
                return "\n".join(str(text) for text in texts)
    return ""


async def run_agui(request: Request) -> Response:
    state: AppState = request.app.state.mock
    body = await read_json(request)
    thread_id = field(body, "threadId", str, label="string")
    run_id = field(body, "runId", str, label="string")
    messages = field(body, "messages", list)
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise validation_error(f"messages.{index}", "union_tag_invalid", "Input should have a 'role'", message)
    props = body.get("forwardedProps")
    props = props if isinstance(props, dict) else {}
    team_id = request.path_params.get("team_id")
    agent_id = request.path_params.get("agent_id") or props.get("agent_id")
    if isinstance(agent_id, str) and agent_id and team_id is None:
        team = pick_agent(state, agent_id)
    elif team_id is None:
        named = props.get("team_id")
        team_id = named if isinstance(named, str) and named else None
        team = pick_team(
            state,
            space_of(request),
            team_id,
            state.settings.agui_default,
            "pass forwardedProps.team_id or start with --agui-default",
        )
    else:
        team = pick_team(state, space_of(request), team_id, None, "")
    user_id = props.get("user_id") if isinstance(props.get("user_id"), str) else None
    space_of(request).sessions.check_writable(thread_id, user_id)
    run_state = body.get("state") if isinstance(body.get("state"), dict) else None
    from mockserver.wire.agui import AGUIEvents  # the AG-UI encoder loads with the first AG-UI run

    encoder = AGUIEvents(thread_id, run_id, run_state)
    return await start_run(
        request, team, user_input(messages), encoder, session_id=thread_id, run_id=run_id, user_id=user_id
    )


async def status(request: Request) -> Response:
    return JSONResponse({"status": "available"})


routes = [
    Route("/agui", run_agui, methods=["POST"]),
    Route("/teams/{team_id}/agui", run_agui, methods=["POST"]),
    Route("/agents/{agent_id}/agui", run_agui, methods=["POST"]),
    Route("/status", status, methods=["GET"]),
]
