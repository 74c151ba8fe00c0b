"""Discovery routes a UI calls before any run: `/`, `/health`, `/info`, `/config`, `/teams`, `/agents`.

Bodies take the shapes of AgentOS 3.1.10 (`j1`…`j5` captures), built from the scenario files:
each file's team with its members, and the tools its scenarios call listed as the team's or
the member's tools. `/agents` lists the files with an `agent:` section (stand-alone agents,
`g1` agent captures); members belong to their teams, as on AgentOS.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockserver.agentos.events import MODEL_CLASSES
from mockserver.http.errors import ApiError
from mockserver.http.journaling import space_of
from mockserver.http.routing import route
from mockserver.scenarios.model import Delegation, Member, ModelInfo, Parallel, ScenarioSet, Step, Team, ToolCall

DB_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "mockserver:sessions"))
"""The one in-memory "database"; agent-ui passes it back as `db_id` on session calls."""

OS_ID = "mockserver"

# The agno class a provider's models are served by, as `model.name` shows it.
DELEGATE_TOOL: dict[str, Any] = {
    "name": "delegate_task_to_member",
    "description": "Use this function to delegate a task to the selected team member.",
    "parameters": {
        "type": "object",
        "properties": {
            "member_id": {
                "type": "string",
                "description": (
                    "(str) The ID of the member to delegate the task to, exactly as it appears in <team_members>."
                ),
            },
            "task": {
                "type": "string",
                "description": (
                    "(str) A clear and concise description of the task the member should achieve, "
                    "including what a good result looks like."
                ),
            },
        },
        "required": ["member_id", "task"],
        "additionalProperties": False,
    },
}

_JSON_TYPES = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)


def model_summary(model: ModelInfo) -> dict[str, Any]:
    return {"name": MODEL_CLASSES.get(model.provider, model.provider), "model": model.id, "provider": model.provider}


def tool_schema(call: ToolCall) -> dict[str, Any]:
    """A function schema guessed from the arguments a scenario passes the tool."""
    properties = {}
    for name, value in call.args.items():
        kind = next((t for py, t in _JSON_TYPES if isinstance(value, py)), "string")
        properties[name] = {"type": kind}
    schema: dict[str, Any] = {"name": call.name}
    if call.description:
        schema["description"] = call.description
    schema["parameters"] = {"type": "object", "properties": properties, "required": list(call.args)}
    return schema


def scenario_tools(team: Team, member_id: str | None) -> list[dict[str, Any]]:
    """The tools the team's scenarios call, for the leader (`member_id` None) or one member."""
    seen: dict[str, dict[str, Any]] = {}
    for scenario in team.scenarios:
        for call in _tool_calls(scenario.steps, None, member_id):
            seen.setdefault(call.name, tool_schema(call))
    return list(seen.values())


def _tool_calls(steps: tuple[Step, ...], owner: str | None, wanted: str | None) -> Iterator[ToolCall]:
    for step in steps:
        if isinstance(step, ToolCall) and owner == wanted:
            yield step
        elif isinstance(step, Delegation):
            yield from _tool_calls(step.steps, step.member, wanted)
        elif isinstance(step, Parallel):
            yield from _tool_calls(step.calls, owner, wanted)


def member_summary(team: Team, member: Member) -> dict[str, Any]:
    body: dict[str, Any] = {"id": member.id, "name": member.name, "db_id": DB_ID, "filesystem": False}
    if member.role:
        body["role"] = member.role
    body.update(is_factory=False, model=model_summary(member.model or team.model))
    tools = scenario_tools(team, member.id)
    if tools:
        body["tools"] = {"tools": tools}
    body.update(
        sessions={"session_table": "agno_sessions"}, reasoning={"reasoning": False}, is_component=False, sandboxed=False
    )
    return body


def team_summary(team: Team) -> dict[str, Any]:
    """One entry of `GET /teams`, keys in the order of the `j2_teams` capture."""
    body: dict[str, Any] = {"id": team.id, "name": team.name, "db_id": DB_ID}
    if team.description:
        body["description"] = team.description
    body.update(mode="coordinate", model=model_summary(team.model))
    tools = ([DELEGATE_TOOL] if team.members else []) + scenario_tools(team, None)
    if tools:
        body["tools"] = {"tools": tools}
    body.update(sessions={"session_table": "agno_sessions"}, reasoning={"reasoning": False})
    if team.description:
        body["system_message"] = {"description": team.description}
    body.update(
        streaming={"stream_member_events": True},
        members=[member_summary(team, m) for m in team.members],
        is_factory=False,
        is_component=False,
        sandboxed=False,
    )
    return body


def agent_summary(agent: Team) -> dict[str, Any]:
    """One entry of `GET /agents`, keys in the order of the `g1_agents` capture."""
    body: dict[str, Any] = {"id": agent.id, "name": agent.name, "db_id": DB_ID, "filesystem": False}
    if agent.description:
        body["description"] = agent.description
    body.update(is_factory=False, model=model_summary(agent.model))
    tools = scenario_tools(agent, None)
    if tools:
        body["tools"] = {"tools": tools}
    body.update(sessions={"session_table": "agno_sessions"}, reasoning={"reasoning": False})
    if agent.description:
        body["system_message"] = {"description": agent.description}
    body.update(is_component=False, sandboxed=False)
    return body


def _database(tables: list[str] | None) -> dict[str, Any]:
    db: dict[str, Any] = {"db_id": DB_ID, "domain_config": {"display_name": DB_ID}}
    if tables is not None:
        db["tables"] = tables
    return {"dbs": [db]}


def os_config(teams: list[Team]) -> dict[str, Any]:
    """`GET /config`, keys in the order of the `j5_config` capture."""
    models: dict[tuple[str, str], dict[str, str]] = {}
    for team in teams:
        for model in [team.model, *(m.model for m in team.members if m.model)]:
            models.setdefault((model.id, model.provider), {"id": model.id, "provider": model.provider})
    return {
        "os_id": OS_ID,
        "description": "mockserver: scripted AgentOS team runs",
        "available_models": list(models.values()),
        "os_database": DB_ID,
        "databases": [DB_ID],
        "session": _database(["agno_sessions"]),
        "metrics": _database(["agno_metrics"]),
        "memory": _database(["agno_memories"]),
        "learning": _database(["agno_learnings"]),
        "filesystem": {"namespaces": []},
        "knowledge": {"dbs": [], "knowledge_instances": []},
        "evals": _database(["agno_eval_runs"]),
        "traces": _database(None),
        "queue": {"durable": False, "queue_per_session": False},
        "agents": [],
        "teams": [
            {
                "id": t.id,
                "name": t.name,
                **({"description": t.description} if t.description else {}),
                "db_id": DB_ID,
                "mode": "coordinate",
                "model": {"id": t.model.id, "provider": t.model.provider},
                "sandboxed": False,
            }
            for t in teams
        ],
        "workflows": [],
        "interfaces": [],
        "company": None,
    }


def _teams(request: Request) -> list[Team]:
    """The loaded teams, with those the request's space added (`POST /__mock/scenarios`) in place."""
    state = request.app.state.mock
    space = space_of(request)
    if not space.teams:
        return state.scenarios.listed()
    return ScenarioSet(state.teams(space)).listed()


async def health(request: Request) -> Response:
    started = request.app.state.mock.started_at
    return JSONResponse({"status": "ok", "instantiated_at": started.strftime("%Y-%m-%dT%H:%M:%S.%fZ")})


async def home(request: Request) -> Response:
    return JSONResponse({"name": "AgentOS", "health": "/health", "info": "/info", "docs": "/docs"})


async def info(request: Request) -> Response:
    """`GET /info`, as a real AgentOS with no agents, no workflows and no MCP server answers it."""
    state = request.app.state.mock
    return JSONResponse(
        {
            "os_id": OS_ID,
            "name": None,
            "os_version": "1.0.0",
            "agno_version": "3.1.10",
            "agent_count": 0,
            "team_count": len(_teams(request)),
            "workflow_count": 0,
            "mcp": {"enabled": False, "path": None, "oauth": None, "tool_run_endpoint": False},
            "auth_mode": "security_key" if state.settings.security_key else "none",
            "user_isolation": False,
        }
    )


async def config(request: Request) -> Response:
    return JSONResponse(os_config(_teams(request)))


async def list_teams(request: Request) -> Response:
    return JSONResponse([team_summary(t) for t in _teams(request)])


async def get_team(request: Request) -> Response:
    team = request.app.state.mock.teams(space_of(request)).get(request.path_params["team_id"])
    if team is None:
        raise ApiError(404, "Team not found")
    return JSONResponse(team_summary(team))


async def list_agents(request: Request) -> Response:
    return JSONResponse([agent_summary(a) for a in request.app.state.mock.scenarios.listed_agents()])


async def get_agent(request: Request) -> Response:
    agent = request.app.state.mock.scenarios.agents.get(request.path_params["agent_id"])
    if agent is None:
        raise ApiError(404, "Agent not found")
    return JSONResponse(agent_summary(agent))


routes = [
    route("/", home, methods=["GET"]),
    route("/health", health, methods=["GET"]),
    route("/info", info, methods=["GET"]),
    route("/config", config, methods=["GET"]),
    route("/teams", list_teams, methods=["GET"]),
    route("/teams/{team_id}", get_team, methods=["GET"]),
    route("/agents", list_agents, methods=["GET"]),
    route("/agents/{agent_id}", get_agent, methods=["GET"]),
]
