"""The mock's control routes under `/__mock/`, for UI tests: journal, verify, reset, scenarios, status.

No AgentOS route starts with `/__mock/`. Every route answers JSON (the live journal answers
SSE) and works in the request's space (`X-Mock-Namespace` or `?namespace=`). Bad input is a
400 naming what is wrong, checked whole before anything changes.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from mockserver import jsontext
from mockserver.control import ControlError
from mockserver.control.choice import override_from
from mockserver.control.journal import Journal, digits, parse_filters
from mockserver.http.errors import ApiError
from mockserver.http.journaling import space_of
from mockserver.scenarios.loader import ScenarioError, load_text
from mockserver.scenarios.templates import human_size
from mockserver.state import SPACE_PARTS, AppState
from mockserver.wire.errors import ERROR_CODES

ADDED_SOURCE = "POST /__mock/scenarios"


def _state(request: Request) -> AppState:
    return request.app.state.mock


def _bad(error: ControlError) -> ApiError:
    return ApiError(400, str(error))


async def _body(request: Request) -> bytes:
    """The whole body, refused past `--max-upload-size` rather than held whatever its size."""
    limit = _state(request).settings.max_upload_size
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise ApiError(413, f"a control request body may be at most {limit} bytes (--max-upload-size)")
    return bytes(raw)


async def _json(request: Request, *, empty: Any = None) -> Any:
    raw = await _body(request)
    if not raw.strip():
        return empty
    try:
        return jsontext.loads(raw)
    except ValueError as error:
        raise ApiError(400, f"the body is not JSON: {error}") from None


async def list_requests(request: Request) -> Response:
    try:
        filters = parse_filters(request.query_params)
    except ControlError as error:
        raise _bad(error) from None
    return JSONResponse(space_of(request).journal.find(filters))


async def get_request(request: Request) -> Response:
    raw = request.path_params["entry_id"]
    entry_id = digits(raw)
    entry = space_of(request).journal.get(entry_id) if entry_id is not None else None
    if entry is None:
        size = _state(request).settings.journal_size
        raise ApiError(404, f"no request {raw!r} in the journal (it keeps the last {size})")
    return JSONResponse(entry)


async def delete_requests(request: Request) -> Response:
    journal = space_of(request).journal
    count = len(journal)
    journal.clear()
    return JSONResponse({"deleted": count})


async def watch_requests(request: Request) -> Response:
    try:
        filters = parse_filters(request.query_params)
    except ControlError as error:
        raise _bad(error) from None
    return JournalStream(_state(request), space_of(request).journal, filters)  # type: ignore[return-value]


class JournalStream:
    """`GET /__mock/requests/stream`: each new journal entry as an SSE `request` event, until the
    client leaves or the server stops. The head is sent once the watch is on, so a client that
    has it misses nothing sent after."""

    def __init__(self, state: AppState, journal: Journal, filters: Any) -> None:
        self.state = state
        self.journal = journal
        self.filters = filters

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
        with self.journal.watch() as entries:
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            async with anyio.create_task_group() as group:
                group.start_soon(self._listen, receive, group.cancel_scope)
                with self.state.stopping.scope():
                    async for entry in entries:
                        if self.filters.accepts(entry):
                            data = json.dumps(entry, separators=(",", ":"), ensure_ascii=False)
                            chunk = f"event: request\ndata: {data}\n\n".encode()
                            await send({"type": "http.response.body", "body": chunk, "more_body": True})
                group.cancel_scope.cancel()
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _listen(self, receive: Receive, scope: anyio.CancelScope) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        scope.cancel()


async def verify_requests(request: Request) -> Response:
    # Imported on the first verify, not at start: its matchers are ~4 ms of import that most runs never use.
    from mockserver.control.verify import parse_count, parse_matcher, verify

    doc = await _json(request)
    if not isinstance(doc, dict) or not set(doc) <= {"match", "count"}:
        raise ApiError(400, 'expected {"match": {...}, "count": {"exactly"|"at_least"|"at_most": N}}; count optional')
    try:
        matcher = parse_matcher(doc.get("match"))
        count = parse_count(doc.get("count"))
    except ControlError as error:
        raise _bad(error) from None
    verdict = verify(list(space_of(request).journal), matcher, count)
    body: dict[str, Any] = {"detail": verdict.detail(), "matched": len(verdict.matches), "requests": verdict.matches}
    if verdict.ok:
        return JSONResponse(body)
    body["error_code"] = "VERIFICATION_FAILED"
    body["near_misses"] = [{"request": entry, "differences": why} for entry, why in verdict.near_misses]
    return JSONResponse(body, 409)


async def reset(request: Request) -> Response:
    doc = await _json(request, empty={})
    if not isinstance(doc, dict) or not set(doc) <= {"only"}:
        raise ApiError(400, f'expected no body, or {{"only": [...]}} with some of {", ".join(SPACE_PARTS)}')
    parts = doc.get("only", list(SPACE_PARTS))
    if not isinstance(parts, list) or not parts or not all(p in SPACE_PARTS for p in parts):
        raise ApiError(400, f"only: expected a non-empty list of {', '.join(SPACE_PARTS)}; got {parts!r}")
    space = space_of(request)
    space.clear(tuple(parts))
    return JSONResponse({"namespace": space.name, "cleared": [p for p in SPACE_PARTS if p in parts]})


async def put_scenario(request: Request) -> Response:
    state, space = _state(request), space_of(request)
    team_id = request.path_params["team_id"]
    team = state.teams(space).get(team_id)
    if team is None:
        raise ApiError(404, f"no team {team_id!r}; teams are {', '.join(state.teams(space))}")
    doc = await _json(request)
    try:
        override = override_from(team, doc)
    except ControlError as error:
        raise _bad(error) from None
    space.overrides[team_id] = override
    return JSONResponse({"team_id": team_id, "sequence": list(override.names), "times": override.times})


async def delete_scenario(request: Request) -> Response:
    removed = space_of(request).overrides.pop(request.path_params["team_id"], None)
    return JSONResponse({"team_id": request.path_params["team_id"], "removed": removed is not None})


async def add_scenarios(request: Request) -> Response:
    raw = await _body(request)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "the body is not UTF-8 text; send the YAML of one scenario file") from None
    try:
        team = load_text(text, ADDED_SOURCE)
    except ScenarioError as error:
        problems = [str(p) for p in error.problems] or [f"{ADDED_SOURCE}:0: not a scenario file"]
        detail = f"{len(problems)} problem(s): " + "; ".join(problems)
        return JSONResponse({"detail": detail, "error_code": ERROR_CODES[400], "problems": problems}, 400)
    space = space_of(request)
    state = _state(request)
    limit = state.settings.max_added_size
    if state.added_size() - space.team_sizes.get(team.id, 0) + len(raw) > limit:
        detail = (
            f"the teams added with POST /__mock/scenarios would be over the {human_size(limit)} limit of YAML"
            " for all namespaces (--max-added-size); POST /__mock/reset frees a namespace's"
        )
        raise ApiError(413, detail)
    replaced = team.id in state.teams(space)
    space.teams[team.id] = team
    space.team_sizes[team.id] = len(raw)
    names = [s.name for s in team.scenarios]
    return JSONResponse({"team_id": team.id, "scenarios": names, "replaced": replaced}, 200 if replaced else 201)


async def status(request: Request) -> Response:
    state, space = _state(request), space_of(request)
    scenarios = state.scenarios
    last = state.last_reload
    body = {
        "scenarios": list(scenarios.directories) or [str(folder) for folder in state.settings.scenarios],
        "files": sorted({team.source for team in scenarios.runnable().values() if team.source}),
        "teams": [
            {"id": t.id, "file": t.source, "scenarios": [s.name for s in t.scenarios], "faults": len(t.faults)}
            for t in scenarios.listed()
        ],
        "added_teams": sorted(space.teams),
        "reload": {
            "enabled": state.settings.reload,
            "last": None
            if last is None
            else {
                "at": last.at.isoformat(timespec="seconds").replace("+00:00", "Z"),
                "ok": last.ok,
                "problems": list(last.problems),
            },
        },
        "namespace": space.name,
        "namespaces": len(state.spaces),
        "journal": {"entries": len(space.journal), "size": state.settings.journal_size},
        "overrides": {team_id: list(o.names) for team_id, o in space.overrides.items()},
        "live_runs": len(state.live_runs),
    }
    return JSONResponse(body)


routes = [
    Route("/__mock/requests", list_requests, methods=["GET"]),
    Route("/__mock/requests", delete_requests, methods=["DELETE"]),
    Route("/__mock/requests/stream", watch_requests, methods=["GET"]),
    Route("/__mock/requests/{entry_id}", get_request, methods=["GET"]),
    Route("/__mock/verify", verify_requests, methods=["POST"]),
    Route("/__mock/reset", reset, methods=["POST"]),
    Route("/__mock/teams/{team_id}/scenario", put_scenario, methods=["PUT"]),
    Route("/__mock/teams/{team_id}/scenario", delete_scenario, methods=["DELETE"]),
    Route("/__mock/scenarios", add_scenarios, methods=["POST"]),
    Route("/__mock/status", status, methods=["GET"]),
]
