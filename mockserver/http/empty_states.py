"""The routes of AgentOS 3.1.10 the mock has nothing behind, answered as a fresh AgentOS answers them.

Dashboards and generated clients call these on start-up (`r_*` captures): memories, metrics,
traces, evals, schedules, approvals, components, learnings and workflows are empty pages or
lists on an AgentOS with a database and nothing in it; `/knowledge/*` is a 503 without a
knowledge base. `/registry` lists what the scenarios declare (database, models, teams, tools).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockserver.agentos.events import MODEL_CLASSES
from mockserver.http.discovery import DB_ID, scenario_tools
from mockserver.http.errors import ApiError
from mockserver.http.routing import route

NO_KNOWLEDGE = (
    "No knowledge base is available on this AgentOS. A Knowledge is served over /knowledge only once it has a "
    "contents_db: pass Knowledge(..., contents_db=<db>) to AgentOS(knowledge=[...]), or to an agent or team."
)
MODEL_CLASS_PATHS = {
    "OpenAIChat": "agno.models.openai.chat.OpenAIChat",
    "Claude": "agno.models.anthropic.claude.Claude",
    "Gemini": "agno.models.google.gemini.Gemini",
    "Groq": "agno.models.groq.groq.Groq",
    "Ollama": "agno.models.ollama.chat.Ollama",
}


def _page_numbers(request: Request, default_limit: int) -> tuple[int, int]:
    """`page` and `limit` as given when they are positive integers, else the route's defaults."""
    values = []
    for name, default in (("page", 1), ("limit", default_limit)):
        raw = request.query_params.get(name, "")
        values.append(_positive(raw) or default)
    return values[0], values[1]


def _positive(raw: str) -> int | None:
    try:
        value = int(raw)
    except ValueError:  # not a number, or one of more than 4,300 digits
        return None
    return value if value > 0 else None


def page_of(items: list[Any], page: int, limit: int) -> dict[str, Any]:
    """AgentOS's `PaginatedResponse`."""
    meta = {
        "page": page,
        "limit": limit,
        "total_pages": (len(items) + limit - 1) // limit,
        "total_count": len(items),
        "search_time_ms": 0.0,
    }
    return {"data": items[(page - 1) * limit : page * limit], "meta": meta}


def empty_page(default_limit: int) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        return JSONResponse(page_of([], *_page_numbers(request, default_limit)))

    return endpoint


def fixed(body: Any) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        return JSONResponse(body)

    return endpoint


async def no_knowledge(request: Request) -> Response:
    raise ApiError(503, NO_KNOWLEDGE)


async def no_workflow(request: Request) -> Response:
    raise ApiError(404, "Workflow not found")


def registry_entries(request: Request) -> list[dict[str, Any]]:
    """What `/registry` lists, sorted by (type, name) as AgentOS sorts it."""
    teams = request.app.state.mock.scenarios.listed()
    entries: list[dict[str, Any]] = [
        {
            "name": DB_ID,
            "type": "db",
            "metadata": {"class_path": "mockserver.agentos.sessions.SessionStore", "db_id": DB_ID},
            "sandboxed": False,
        }
    ]
    models: dict[str, dict[str, Any]] = {}
    tools: dict[str, dict[str, Any]] = {}
    for team in teams:
        model_class = MODEL_CLASSES.get(team.model.provider, team.model.provider)
        models.setdefault(
            team.model.id,
            {
                "name": team.model.id,
                "type": "model",
                "metadata": {
                    "class_path": MODEL_CLASS_PATHS.get(model_class, model_class),
                    "provider": team.model.provider,
                    "model_id": team.model.id,
                },
                "sandboxed": False,
            },
        )
        team_entry: dict[str, Any] = {"name": team.name, "type": "team", "id": team.id}
        if team.description:
            team_entry["description"] = team.description
        team_entry.update(metadata={"id": team.id, "class_path": "agno.team.team.Team"}, sandboxed=False)
        entries.append(team_entry)
        for tool in scenario_tools(team, None):
            tools.setdefault(
                tool["name"],
                {
                    "name": tool["name"],
                    "type": "tool",
                    "metadata": {"is_toolkit": False, "parameters": tool["parameters"]},
                    "sandboxed": False,
                },
            )
    entries.extend(models.values())
    entries.extend(tools.values())
    return sorted(entries, key=lambda entry: (entry["type"], entry["name"]))


async def registry(request: Request) -> Response:
    entries = registry_entries(request)
    kind = request.query_params.get("resource_type")
    name = (request.query_params.get("name") or "").lower().strip()
    entries = [e for e in entries if (not kind or e["type"] == kind) and name in e["name"].lower()]
    return JSONResponse(page_of(entries, *_page_numbers(request, 20)))


EMPTY_PAGES = {
    "/memories": 20,
    "/user_memory_stats": 20,
    "/traces": 20,
    "/trace_session_stats": 20,
    "/eval-runs": 20,
    "/components": 20,
    "/learnings": 100,
    "/learnings/users": 20,
    "/schedules": 100,
    "/approvals": 100,
}

routes = [
    *(route(path, empty_page(limit), methods=["GET"]) for path, limit in EMPTY_PAGES.items()),
    route("/workflows", fixed([]), methods=["GET"]),
    route("/workflows/{workflow_id}", no_workflow, methods=["GET"]),
    route("/memory_topics", fixed([]), methods=["GET"]),
    route("/metrics", fixed({"metrics": [], "updated_at": None}), methods=["GET"]),
    route("/approvals/count", fixed({"count": 0}), methods=["GET"]),
    route("/registry", registry, methods=["GET"]),
    route("/knowledge/{rest:path}", no_knowledge, methods=["GET", "POST", "PATCH", "DELETE"]),
]
