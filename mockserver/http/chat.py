"""The Vercel AI SDK chat endpoints: `useChat`'s request in, a UI message stream (v1) out.

`POST /api/chat` runs `?team=` (or the agent `?agent=`), else `--chat-default`;
`POST /teams/{team_id}/chat` and `POST /agents/{agent_id}/chat` name it in the path. The
message is the text parts of the last user message, the chat id is the session; the run is
the one `POST /teams/{team_id}/runs` plays, only the encoder differs.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mockserver.http.errors import validation_error
from mockserver.http.journaling import space_of
from mockserver.http.jsonbody import field, pick_agent, pick_team, read_json
from mockserver.http.runs import start_run
from mockserver.state import AppState


def last_user_text(messages: list[Any]) -> str:
    """The text parts of the last user message, joined (a v4-style `content` string also works)."""
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        parts = message.get("parts")
        if isinstance(parts, list):
            return "".join(str(p.get("text", "")) for p in parts if isinstance(p, dict) and p.get("type") == "text")
        content = message.get("content")
        return content if isinstance(content, str) else ""
    return ""


async def run_chat(request: Request) -> Response:
    state: AppState = request.app.state.mock
    body = await read_json(request)
    chat_id = field(body, "id", str, label="string")
    messages = field(body, "messages", list)
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise validation_error(f"messages.{index}", "missing", "Each message needs a 'role'", message)
    team_id = request.path_params.get("team_id")
    agent_id = request.path_params.get("agent_id") or request.query_params.get("agent")
    if agent_id and team_id is None:
        team = pick_agent(state, agent_id)
    elif team_id is None:
        team = pick_team(
            state,
            space_of(request),
            request.query_params.get("team") or None,
            state.settings.chat_default,
            "add ?team=TEAM_ID or start with --chat-default",
        )
    else:
        team = pick_team(state, space_of(request), team_id, None, "")
    space_of(request).sessions.check_writable(chat_id, None)
    from mockserver.wire.ai_sdk import UIMessageStream  # the AI SDK encoder loads with the first chat run

    run_id = str(uuid.uuid4())  # also the assistant message's id, so a UI message names its agno run
    return await start_run(
        request, team, last_user_text(messages), UIMessageStream(run_id), session_id=chat_id, run_id=run_id
    )


routes = [
    Route("/api/chat", run_chat, methods=["POST"]),
    Route("/teams/{team_id}/chat", run_chat, methods=["POST"]),
    Route("/agents/{agent_id}/chat", run_chat, methods=["POST"]),
]
