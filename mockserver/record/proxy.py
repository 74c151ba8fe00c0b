"""The recording proxy: a UI talks to the real AgentOS through it, and every team run is written down.

Each request is passed on as it came (headers included, the UI's bearer token too; only the
hop-by-hop headers are dropped) and each response is streamed back as it arrives: one chunk
out for each chunk the upstream sent, never buffered, the bytes untouched. A streamed
`POST /teams/{id}/runs` is also read on the way: its form (message, session, user, the files'
metadata), the time to its response head and each frame with its arrival offset. When the run
is over, its team's scenario file is rewritten (`record/writer.py`) and one line is reported.

Nothing secret is kept: headers are forwarded, never stored; the team's description is read
from the upstream with the run's own headers, in memory only.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import anyio
import httpx
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from mockserver.record.runs import FileInfo, RecordedFrame, RecordedRun, SseReader
from mockserver.record.writer import RecordingFolder, TeamInfo
from mockserver.scenarios.loader import ScenarioError

TEAM_RUN = re.compile(r"^/teams/([^/]+)/runs/?$")
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
    }
)
HTTPX_DEFAULTS = frozenset({b"accept", b"accept-encoding", b"user-agent"})
UPSTREAM_TIMEOUT = httpx.Timeout(connect=10.0, read=None, write=60.0, pool=10.0)
"""No read timeout: a model may think for minutes between two frames."""


def _forwarded(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in headers if k.decode("latin-1").lower() not in HOP_BY_HOP]


class RecordingProxy:
    def __init__(
        self,
        upstream: str,
        folder: RecordingFolder,
        report: Callable[[str], None] = print,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.folder = folder
        self.report = report
        self.transport = transport
        self.client: httpx.AsyncClient | None = None
        self.teams: dict[str, TeamInfo] = {}
        self.refused: set[str] = set()
        self.recorded: list[RecordedRun] = []
        self.live: set[anyio.CancelScope] = set()

    def _client(self) -> httpx.AsyncClient:
        if self.client is None:
            self.client = httpx.AsyncClient(timeout=UPSTREAM_TIMEOUT, transport=self.transport, follow_redirects=False)
        return self.client

    async def aclose(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        match = TEAM_RUN.match(scope["path"]) if scope["method"] == "POST" else None
        run = self._run_of(match.group(1)) if match else None
        response = _Progress()
        async with anyio.create_task_group() as group:
            self.live.add(group.cancel_scope)
            try:
                group.start_soon(_cancel_on_disconnect, receive, group.cancel_scope)
                await self._forward(scope, body, send, run, response)
                group.cancel_scope.cancel()
            finally:
                self.live.discard(group.cancel_scope)
        if response.started and not response.ended:  # stopped (Ctrl-C) mid-stream: end the response cleanly
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        # The form is read afterwards, so the request went upstream at once.
        if run is not None and run.frames and await _fill_from_form(run, scope, body):
            await self._finished(run, scope)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def stop(self) -> None:
        """End every response still streaming (the server is shutting down)."""
        for scope in list(self.live):
            scope.cancel()

    async def _forward(
        self, scope: Scope, body: bytes, send: Send, run: RecordedRun | None, progress: _Progress
    ) -> None:
        path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        url = httpx.URL(f"{self.upstream}{path}" + (f"?{query}" if query else ""))
        client = self._client()
        # httpx counts the body it sends itself: the client's content-length would be a second one.
        headers = [(k, v) for k, v in _forwarded(scope["headers"]) if k.lower() != b"content-length"]
        request = client.build_request(scope["method"], url, headers=headers, content=body)
        given = {k.lower() for k, _ in headers}
        for name in HTTPX_DEFAULTS - given:  # what httpx adds on its own (gzip!) was not asked for
            del request.headers[name.decode()]
        started = time.monotonic()
        try:
            response = await client.send(request, stream=True)
        except httpx.HTTPError as error:
            await _bad_gateway(send, f"the upstream AgentOS at {self.upstream} did not answer: {error}")
            return
        try:
            head = time.monotonic() - started
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": _forwarded(response.headers.raw),
                }
            )
            progress.started = True
            recording = run is not None and response.status_code == 200 and _is_plain_sse(response.headers)
            reader = SseReader()
            if run is not None:
                run.head = head
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                if recording and run is not None:
                    at = time.monotonic() - started
                    run.frames.extend(RecordedFrame(at, event, data) for event, data in reader.feed(chunk))
            progress.ended = True
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except httpx.HTTPError:
            pass  # the upstream cut the stream: the client sees it cut too, and the run is not ended
        finally:
            await response.aclose()

    def _run_of(self, team_id: str) -> RecordedRun | None:
        """The run a team-run request starts, or None if its team is not to be recorded here."""
        refusal = self.folder.accepts(team_id)
        if refusal is not None:
            if team_id not in self.refused:
                self.refused.add(team_id)
                self.report(f"not recording team {team_id!r}: {refusal} (its runs still pass through)")
            return None
        return RecordedRun(team_id=team_id, message="")

    async def _finished(self, run: RecordedRun, scope: Scope) -> None:
        if not run.frames:
            return  # not a stream (stream=false, an error status): nothing to replay frame by frame
        if not run.ended:
            self.report(f"not recorded: team {run.team_id!r} {_quoted(run.message)} ended before its last event")
            return
        info = self.teams.get(run.team_id)
        if info is None:
            info = self.teams[run.team_id] = await self._team_info(run.team_id, scope)
        try:
            path, written = self.folder.add(run, info)
        except ScenarioError as error:  # e.g. a `{{ … }}` in the model's answer, which reads as a placeholder
            self.report(f"not recorded: team {run.team_id!r} {_quoted(run.message)} would not load: {error}")
            return
        self.recorded.append(run)
        team = self.folder.team_id_for(run.team_id)
        files = f" + {len(run.files)} file(s)" if run.files else ""
        note = "" if written else " (message already recorded: the replay answers with the first recording)"
        self.report(
            f"recorded {team} {_quoted(run.message)}{files}: {len(run.frames)} frames in {run.duration:.2f} s"
            f" → {path}{note}"
        )

    async def _team_info(self, team_id: str, scope: Scope) -> TeamInfo:
        """The team as the upstream describes it, asked with the run's own credentials."""
        headers = [(k, v) for k, v in _forwarded(scope["headers"]) if k.lower() in (b"authorization", b"cookie")]
        try:
            response = await self._client().get(f"{self.upstream}/teams/{team_id}", headers=headers)
            if response.status_code == 200 and isinstance(response.json(), dict):
                return TeamInfo.from_agentos(response.json())
        except (httpx.HTTPError, ValueError):
            pass
        return TeamInfo(id=team_id, name=team_id)


class _Progress:
    started = False
    ended = False


async def _fill_from_form(run: RecordedRun, scope: Scope, body: bytes) -> bool:
    """The run's message, session, user and files' metadata, from the form it was posted with."""
    try:
        form = await _form(scope, body)
    except Exception:  # noqa: BLE001 - a form the upstream accepted but we cannot read: nothing to record
        return False
    try:
        message = form.get("message")
        if not isinstance(message, str):
            return False
        session_id, user_id = form.get("session_id"), form.get("user_id")
        run.message = message
        run.session_id = session_id if isinstance(session_id, str) and session_id else None
        run.user_id = user_id if isinstance(user_id, str) and user_id else None
        run.files = tuple(
            FileInfo(value.filename, value.content_type, value.size or 0)
            for _, value in form.multi_items()
            if isinstance(value, UploadFile)
        )
        return True
    finally:
        await form.close()


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _cancel_on_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    scope.cancel()


async def _form(scope: Scope, body: bytes) -> Any:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return await Request(scope, replay).form(max_files=10_000, max_fields=10_000)


def _is_plain_sse(headers: httpx.Headers) -> bool:
    return headers.get("content-type", "").startswith("text/event-stream") and headers.get("content-encoding") in (
        None,
        "identity",
    )


async def _bad_gateway(send: Send, detail: str) -> None:
    body = json.dumps({"detail": detail, "error_code": "BAD_GATEWAY"}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 502, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _quoted(message: str, width: int = 60) -> str:
    line = " ".join(message.split())
    return json.dumps(line if len(line) <= width else line[: width - 1] + "…", ensure_ascii=False)
