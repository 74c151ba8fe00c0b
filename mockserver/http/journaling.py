"""Journals every request to an AgentOS route when its response ends, in the request's space.

The middleware sits inside CORS (a preflight is not a request the UI made) and outside auth and
the error handlers, so a 401, a 422 or a 500 is journaled with the rest. It picks the request's
space from `X-Mock-Namespace` (control routes also take `?namespace=`) and puts a `Noted` on
the scope, where the run route writes the form; the run pipeline puts its `RunRecord` on the
scope too. The entry is built from both once the response has ended, when both are final.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.agentos.media import Upload
from mockserver.control.timeline import restamped, timeline_of
from mockserver.http.auth import CONTROL_PREFIX
from mockserver.http.errors import ApiError, error_response
from mockserver.run.delivery import PLAIN
from mockserver.run.pipeline import RUN_RECORD, RunRecord
from mockserver.run.plans import PlanCache
from mockserver.state import DEFAULT_SPACE, AppState, Space

NOTED = "mock.noted"
SPACE = "mock.space"
NAMESPACE_HEADER = b"x-mock-namespace"
_NAMESPACE = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_TEAM_PATH = re.compile(r"^/teams/([^/]+)")
REDACTED = "[redacted]"
REDACTED_HEADERS = frozenset({"authorization"})


@dataclass
class Noted:
    """What the route and the pipeline learn about one request, for its journal entry."""

    fields: dict[str, Any] | None = None
    files: list[dict[str, Any]] = field(default_factory=list)


def noted(request: Request) -> Noted | None:
    return request.scope.get(NOTED)


def space_of(request: Request) -> Space:
    state: AppState = request.app.state.mock
    return state.space(request.scope.get(SPACE, DEFAULT_SPACE))


def note_form(request: Request, form: FormData) -> None:
    """The form as sent: text fields (a repeated one as a list) and each file's facts."""
    facts = noted(request)
    if facts is None:
        return
    fields: dict[str, Any] = {}
    for name, value in form.multi_items():
        if isinstance(value, Upload):
            facts.files.append(_file(name, value))
        elif isinstance(value, str):
            if name in fields:
                previous = fields[name]
                fields[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
            else:
                fields[name] = value
    facts.fields = fields


def _file(name: str, upload: Upload) -> dict[str, Any]:
    return {
        "field": name,
        "name": upload.filename,
        "content_type": upload.content_type,
        "size": upload.size,
        "sha256": upload.sha256,
        "category": upload.category,
    }


def namespace_of(scope: Scope) -> str | None:
    """The request's namespace: its header, else (control routes only) `?namespace=`; None if bad."""
    raw = dict(scope["headers"]).get(NAMESPACE_HEADER)
    name = raw.decode("latin-1").strip() if raw is not None else ""
    if not name and scope["path"].startswith(CONTROL_PREFIX):
        name = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("namespace", [""])[0]
    if name and not _NAMESPACE.fullmatch(name):
        return None
    return name


class Journaling:
    def __init__(self, app: ASGIApp, error_format: str) -> None:
        self.app = app
        self.error_format = error_format

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        name = namespace_of(scope)
        if name is None:
            error = ApiError(400, "X-Mock-Namespace: expected 1 to 64 of the characters A-Z a-z 0-9 . _ : -")
            await error_response(error, self.error_format)(scope, receive, send)
            return
        scope[SPACE] = name
        if scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        facts = scope[NOTED] = Noted()
        status = 0
        started = time.monotonic()

        async def noting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting)
        finally:
            state: AppState = scope["app"].state.mock
            entry = build_entry(scope, facts, status or None, time.monotonic() - started, state.plans)
            space = state.space(name)
            space.journal.add(entry, weight_of(entry))
            state.bound_journals(space)


def build_entry(scope: Scope, facts: Noted, status: int | None, duration: float, plans: PlanCache) -> dict[str, Any]:
    """The journal entry of one request, from its scope, what was noted and how it ended
    (`status` None: the client left before the response head was sent)."""
    path: str = scope["path"]
    team = _TEAM_PATH.match(path)
    fields = facts.fields
    entry: dict[str, Any] = {
        "method": scope["method"],
        "path": path,
        "query": scope.get("query_string", b"").decode("latin-1"),
        "namespace": scope.get(SPACE, DEFAULT_SPACE),
        "team_id": team.group(1) if team else None,
        "status": status,
        "message": _one(fields, "message"),
        "session_id": _one(fields, "session_id"),
        "user_id": _one(fields, "user_id"),
        "fields": fields,
        "files": facts.files,
        "headers": _headers(scope["headers"]),
    }
    run: RunRecord | None = scope.get(RUN_RECORD)
    if run is not None:
        context = run.context
        entry.update(
            session_id=context.session_id,
            run_id=context.run_id,
            scenario=context.scenario.name,
            scenario_where=context.scenario.where,
            fault=run.delivery.fault,
            frames=len(run.sent),
            events=_events(run, plans),
            ending=run.ending,
            late_ms=round(run.lateness * 1000, 1),
            timeline=_timeline(run, plans),
        )
    else:
        entry.update(
            run_id=None, scenario=None, scenario_where=None, fault=None, frames=0, events=[], ending=None, timeline=None
        )
    entry["duration_ms"] = round(duration * 1000, 1)
    return entry


ENTRY_BYTES = 4096
"""About what an entry holds besides its texts: the dict, its keys and values."""
ROW_BYTES = 256
"""About what one row of an entry's timeline holds (its texts are cut at `TEXT_LIMIT`)."""
FILE_BYTES = 512
"""About what one uploaded file's line holds (name, type, size)."""


def weight_of(entry: dict[str, Any]) -> int:
    """About the bytes `entry` holds, for the journals' `--max-journal-bytes`: mostly its form
    texts (a message may be a megabyte), its headers and one row per frame."""
    texts = sum(len(value) for value in entry["headers"].values())
    for value in (entry["fields"] or {}).values():
        for text in value if isinstance(value, list) else (value,):
            texts += len(text) if isinstance(text, str) else 0
    return ENTRY_BYTES + texts + ROW_BYTES * entry["frames"] + FILE_BYTES * len(entry["files"] or ())


def _whole(run: RunRecord) -> bool:
    """Whether the run played its plan whole, as planned: then its events and timeline are its plan's."""
    return run.delivery is PLAIN and run.ending == "completed" and len(run.sent) == len(run.plan.frames)


def _events(run: RunRecord, plans: PlanCache) -> list[str]:
    def events() -> list[str]:
        return [frame.event for frame in run.sent]

    return (plans.derived(run.plan, "events", events) if _whole(run) else None) or events()


def _timeline(run: RunRecord, plans: PlanCache) -> dict[str, Any]:
    """The run's timeline; those of a kept plan's whole runs share their rows."""

    def plain() -> dict[str, Any]:
        return timeline_of(run.sent, run.delivery, run.plan.frames)

    shared = plans.derived(run.plan, "timeline", plain) if _whole(run) else None
    if shared is not None:
        return restamped(shared, run.stamp.text)
    return timeline_of(run.sent, run.delivery, run.plan.frames, run.stamp.text)


def _one(fields: dict[str, Any] | None, name: str) -> str | None:
    value = (fields or {}).get(name)
    if isinstance(value, list):
        value = value[0]
    return value or None


def _headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for key, value in raw:
        name = key.decode("latin-1").lower()
        text = REDACTED if name in REDACTED_HEADERS else value.decode("latin-1")
        headers[name] = f"{headers[name]}, {text}" if name in headers else text
    return headers
