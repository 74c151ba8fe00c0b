"""The session routes of AgentOS 3.1.10 a chat UI uses, answered from the in-memory store.

List (`GET /sessions`, paginated `{data, meta}`), read (`GET /sessions/{id}`, its runs, one
run, run previews), rename, update, delete one (204) or many. Query parameters are checked as
FastAPI checks them (422 with the documented or the FastAPI body); the mock has one store, so
`db_id` is its id (from `GET /teams`) or absent, anything else a 404, and `table` is ignored.
A `user_id` scopes every call: another
user's session is "not found", with AgentOS's wording for each route.
"""

from __future__ import annotations

import calendar
import json
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from mockserver import jsontext
from mockserver.agentos.sessions import Session, SessionStore
from mockserver.http.discovery import DB_ID
from mockserver.http.errors import ApiError
from mockserver.http.journaling import space_of
from mockserver.http.jsonbody import PARSE_ERROR
from mockserver.http.routing import route
from mockserver.scenarios.templates import human_size

SESSION_TYPES = ("agent", "team", "workflow")
SORT_ORDERS = ("asc", "desc")
RUN_STATUSES = ("CANCELLED", "COMPLETED", "ERROR", "PAUSED", "PENDING", "REGENERATED", "RUNNING")
SORT_KEYS: dict[str, Callable[[Session], Any]] = {
    "created_at": lambda s: s.created_at,
    "updated_at": lambda s: s.updated_at,
    "session_name": lambda s: s.name.lower(),
}
PREVIEW_CHARS = 280
BODY_SLACK = 64 * 1024
"""A session body may hold a message-sized name plus state and metadata."""


class _Query:
    """Reads query parameters and collects every problem, as FastAPI reports them all at once."""

    def __init__(self, request: Request) -> None:
        self.params = request.query_params
        self.problems: list[dict[str, Any]] = []

    def text(self, name: str) -> str | None:
        value = self.params.get(name)
        return value if value not in (None, "") else None

    def choice(self, name: str, choices: tuple[str, ...]) -> str | None:
        value = self.text(name)
        if value is not None and value not in choices:
            expected = ", ".join(f"'{c}'" for c in choices[:-1]) + f" or '{choices[-1]}'"
            self.problem(name, "enum", f"Input should be {expected}", value, {"expected": expected})
            return None
        return value

    def integer(self, name: str, default: int | None, minimum: int | None = None) -> int | None:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            self.problem(
                name, "int_parsing", "Input should be a valid integer, unable to parse string as an integer", raw
            )
            return default
        if minimum is not None and value < minimum:
            self.problem(
                name, "greater_than_equal", f"Input should be greater than or equal to {minimum}", raw, {"ge": minimum}
            )
            return default
        return value

    def problem(self, name: str, kind: str, message: str, given: Any, ctx: dict[str, Any] | None = None) -> None:
        entry: dict[str, Any] = {"type": kind, "loc": ["query", name], "msg": message, "input": given}
        if ctx:
            entry["ctx"] = ctx
        self.problems.append(entry)

    def check(self) -> None:
        """422 for the problems found, then 404 for a database the mock does not have."""
        if self.problems:
            detail = "; ".join(f"{p['loc'][-1]}: {p['msg']}" for p in self.problems)
            raise ApiError(422, detail, agentos_detail=self.problems)
        _check_db(self.params.get("db_id"))


def _check_db(db_id: str | None) -> None:
    if db_id not in (None, "", DB_ID):
        raise ApiError(404, f"No database found with id '{db_id}'")


def _store(request: Request) -> SessionStore:
    return space_of(request).sessions


def _session_or_404(request: Request, detail: str, query: _Query, types: tuple[str, ...] = ("team",)) -> Session:
    """The session, if `?type=` is its kind or, for a team session, one of `types` (AgentOS reads a
    team session as an agent one too)."""
    session_type = query.choice("type", SESSION_TYPES)
    user_id = query.text("user_id")
    query.check()
    session = _store(request).get(request.path_params["session_id"], user_id)
    if session is None or session_type not in (None, session.kind, *(types if session.kind == "team" else ())):
        raise ApiError(404, detail)
    return session


async def _json_body(request: Request, *, model: bool = False) -> Any:
    """The JSON body, parsed only when sent as JSON, as FastAPI does (so a cross-site form or
    `text/plain` post cannot rename or delete sessions); `model`: the route's body is a model,
    which FastAPI reports as not an object rather than as a missing field."""
    raw = await _read_body(request, request.app.state.mock.settings.max_message_size + BODY_SLACK)
    if not raw:
        return None  # FastAPI: no body at all is a missing field, whatever the content type
    if not _is_json(request.headers.get("content-type")):
        if not model:
            return None
        given = raw.decode("utf-8", "replace")
        message = "Input should be a valid dictionary or object to extract fields from"
        raise ApiError(
            422,
            f"body: {message} (send it as Content-Type: application/json)",
            agentos_detail=[{"type": "model_attributes_type", "loc": ["body"], "msg": message, "input": given}],
        )
    try:
        return jsontext.loads(raw) if raw else None
    except ValueError as error:
        if not isinstance(error, json.JSONDecodeError):  # FastAPI's answer to any other failure
            raise ApiError(400, PARSE_ERROR) from None
        raise ApiError(
            422,
            "body: JSON decode error",
            agentos_detail=[
                {
                    "type": "json_invalid",
                    "loc": ["body", 0],
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": "Expecting value"},
                }
            ],
        ) from None


def _is_json(content_type: str | None) -> bool:
    kind = (content_type or "").split(";")[0].strip().lower()
    main, _, sub = kind.partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


async def _read_body(request: Request, most: int) -> bytes:
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > most:
                detail = f"body is over the {human_size(most)} limit (--max-message-size plus 64 KB)"
                raise ApiError(413, detail, headers={"connection": "close"})
    except ClientDisconnect:
        raise ApiError(400, "The client disconnected before the body was complete") from None
    return bytes(body)


def _missing_body_field(field: str) -> ApiError:
    return ApiError(
        422,
        f"{field}: Field required",
        agentos_detail=[{"type": "missing", "loc": ["body", field], "msg": "Field required", "input": None}],
    )


async def list_sessions(request: Request) -> Response:
    query = _Query(request)
    session_type = query.choice("type", SESSION_TYPES)
    limit = query.integer("limit", 20, minimum=1) or 20
    page = query.integer("page", 1, minimum=0) or 1
    sort_order = query.choice("sort_order", SORT_ORDERS) or "desc"
    query.check()
    started = time.perf_counter()
    sessions = []
    if session_type in (None, "team", "agent"):
        sessions = _store(request).find(
            team_id=query.text("component_id"),
            user_id=query.text("user_id"),
            name=query.text("session_name"),
            kind=session_type or "team",
        )
    key = SORT_KEYS.get(query.text("sort_by") or "created_at", SORT_KEYS["created_at"])
    sessions.sort(key=key, reverse=sort_order == "desc")
    shown = sessions[(page - 1) * limit : page * limit]
    meta = {
        "page": page,
        "limit": limit,
        "total_pages": (len(sessions) + limit - 1) // limit,
        "total_count": len(sessions),
        "search_time_ms": round((time.perf_counter() - started) * 1000, 2),
    }
    return JSONResponse({"data": [s.summary() for s in shown], "meta": meta})


async def get_session(request: Request) -> Response:
    query = _Query(request)
    session_id = request.path_params["session_id"]
    kind = query.text("type")
    detail = (
        f"{kind.title()} Session with id '{session_id}' not found"
        if kind in SESSION_TYPES
        else f"Session with id '{session_id}' not found"
    )
    if kind == "agent":
        session = _session_or_404(request, detail, query, types=("agent",))
        return JSONResponse(session.agent_detail())
    return JSONResponse(_session_or_404(request, detail, query).detail())


def _runs(request: Request) -> list[dict[str, Any]]:
    query = _Query(request)
    after = query.integer("created_after", None)
    before = query.integer("created_before", None)
    statuses = {s.upper() for s in request.query_params.getlist("status") if s}
    session = _session_or_404(request, f"Session with ID {request.path_params['session_id']} not found", query)
    unknown = sorted(statuses - set(RUN_STATUSES))
    if unknown:
        raise ApiError(400, f"Invalid status value(s) {unknown}; expected one of {sorted(RUN_STATUSES)}")
    runs = []
    for run in session.runs:
        created = _epoch(run["created_at"])
        if (after is not None and created < after) or (before is not None and created > before):
            continue
        if statuses and run.get("status") not in statuses:
            continue
        runs.append(run)
    return runs


def _epoch(iso_time: str) -> int:
    return calendar.timegm(time.strptime(iso_time, "%Y-%m-%dT%H:%M:%SZ"))


async def get_session_runs(request: Request) -> Response:
    return JSONResponse(_runs(request))


async def get_run_previews(request: Request) -> Response:
    previews = []
    for run in _runs(request):
        preview: dict[str, Any] = {"run_id": run["run_id"], "parent_run_id": run.get("parent_run_id")}
        for key in ("agent_id", "team_id", "user_id", "status"):
            if run.get(key) is not None:
                preview[key] = run[key]
        preview.update(
            run_input=str(run.get("run_input", ""))[:PREVIEW_CHARS],
            content_preview=str(run.get("content", ""))[:PREVIEW_CHARS],
            created_at=run["created_at"],
        )
        previews.append(preview)
    return JSONResponse(previews)


async def get_session_run(request: Request) -> Response:
    session_id = request.path_params["session_id"]
    session = _session_or_404(request, f"Session with ID {session_id} not found", _Query(request))
    if not session.runs:
        raise ApiError(404, f"Session with ID {session_id} has no runs")
    run_id = request.path_params["run_id"]
    run = next((r for r in session.runs if r["run_id"] == run_id), None)
    if run is None:
        raise ApiError(404, f"Run with ID {run_id} not found in session {session_id}")
    return JSONResponse(run)


async def rename_session(request: Request) -> Response:
    query = _Query(request)
    body = await _json_body(request)
    name = body.get("session_name") if isinstance(body, dict) else None
    if not isinstance(name, str):
        raise _missing_body_field("session_name")
    session = _session_or_404(request, f"Session with id '{request.path_params['session_id']}' not found", query)
    session.name = name
    session.renamed = True
    session.updated_at = time.time()
    return JSONResponse(session.detail(nulls=True))


async def update_session(request: Request) -> Response:
    query = _Query(request)
    body = await _json_body(request, model=True)
    if not isinstance(body, dict):
        raise _missing_body_field("update_data")
    session = _session_or_404(request, f"Session with id '{request.path_params['session_id']}' not found", query)
    if isinstance(body.get("session_name"), str):
        session.name = body["session_name"]
        session.renamed = True
    if isinstance(body.get("session_state"), dict):
        session.session_state = body["session_state"]
    if isinstance(body.get("metadata"), dict):
        session.metadata = body["metadata"]
    session.updated_at = time.time()
    return JSONResponse(session.detail(nulls=True))


async def delete_session(request: Request) -> Response:
    _check_db(request.query_params.get("db_id"))
    _store(request).delete(request.path_params["session_id"], request.query_params.get("user_id") or None)
    return Response(status_code=204)


async def delete_sessions(request: Request) -> Response:
    body = await _json_body(request, model=True)
    if body is None:
        raise ApiError(
            422,
            "body: Field required",
            agentos_detail=[{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}],
        )
    missing = [name for name in ("session_ids", "session_types") if not isinstance(body, dict) or name not in body]
    if missing:
        raise ApiError(
            422,
            "; ".join(f"{name}: Field required" for name in missing),
            agentos_detail=[
                {"type": "missing", "loc": ["body", name], "msg": "Field required", "input": body} for name in missing
            ],
        )
    ids, types = body["session_ids"], body["session_types"]
    if not isinstance(ids, list) or not ids:
        raise _missing_body_field("session_ids")
    if not isinstance(types, list) or not types:
        raise _missing_body_field("session_types")
    _check_db(request.query_params.get("db_id"))
    if len(ids) != len(types):
        raise ApiError(400, "Session IDs and session types must have the same length")
    user_id = request.query_params.get("user_id") or None
    for session_id in ids:
        _store(request).delete(str(session_id), user_id)
    return Response(status_code=204)


routes = [
    route("/sessions", list_sessions, methods=["GET"]),
    route("/sessions", delete_sessions, methods=["DELETE"]),
    route("/sessions/{session_id}", get_session, methods=["GET"]),
    route("/sessions/{session_id}", update_session, methods=["PATCH"]),
    route("/sessions/{session_id}", delete_session, methods=["DELETE"]),
    route("/sessions/{session_id}/runs", get_session_runs, methods=["GET"]),
    route("/sessions/{session_id}/run-previews", get_run_previews, methods=["GET"]),
    route("/sessions/{session_id}/runs/{run_id}", get_session_run, methods=["GET"]),
    route("/sessions/{session_id}/rename", rename_session, methods=["POST"]),
]
