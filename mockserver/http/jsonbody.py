"""JSON request bodies for the protocol endpoints (AG-UI, the AI SDK chat), read and checked once.

Problems are FastAPI's 422s, located in the body as pydantic locates them, so a client sees
the same kind of answer it would get from agno's own endpoints.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from mockserver import jsontext
from mockserver.http.errors import ApiError, validation_error
from mockserver.scenarios.model import Team
from mockserver.state import AppState, Space

PARSE_ERROR = "There was an error parsing the body"
"""FastAPI's 400 for a JSON body that stops it other than by its syntax (that is a 422)."""


async def read_json(request: Request) -> dict[str, Any]:
    """The body as a JSON object; 413 over `--max-json-size`, 422 when it is not a JSON object
    (bad syntax included), 400 when it cannot be read at all, as FastAPI answers."""
    limit = request.app.state.mock.settings.max_json_size
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"Request body is over --max-json-size ({limit} bytes)")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(413, f"Request body is over --max-json-size ({limit} bytes)")
    try:
        parsed = jsontext.loads(body)
    except json.JSONDecodeError as error:
        raise validation_error("body", "json_invalid", f"JSON decode error: {error}", None, where="body") from None
    except ValueError:  # nesting past the stack, bytes that are not UTF-8, what JSON cannot carry
        raise ApiError(400, PARSE_ERROR) from None
    if not isinstance(parsed, dict):
        raise validation_error("body", "model_attributes_type", "Input should be a JSON object", parsed)
    return parsed


def field(body: dict[str, Any], name: str, kind: type, *, required: bool = True, label: str = "") -> Any:
    """`body[name]` checked to be a `kind`; absent is None unless `required`."""
    value = body.get(name)
    if value is None:
        if required:
            raise validation_error(name, "missing", "Field required", None)
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise validation_error(
            name, f"{label or kind.__name__}_type", f"Input should be a valid {label or kind.__name__}", value
        )
    return value


def pick_agent(state: AppState, agent_id: str) -> Team:
    agent = state.scenarios.agents.get(agent_id)
    if agent is None:
        raise ApiError(404, "Agent not found")
    return agent


def pick_team(state: AppState, space: Space, team_id: str | None, default: str | None, how: str) -> Team:
    """The team a protocol request runs: the one it names, else the configured default, else the only one.

    `how` tells the client how to name a team, for the message when it must.
    """
    teams = state.teams(space)
    chosen = team_id or default
    if chosen is None:
        if len(teams) == 1:
            return next(iter(teams.values()))
        names = ", ".join(team.id for team in state.scenarios.listed())
        raise ApiError(400, f"No team named: {how} (teams: {names})")
    team = teams.get(chosen)
    if team is None:
        raise ApiError(404, "Team not found")
    return team
