"""Regenerate `tests/captures/agentos-3.1.10-fidelity/` from a real AgentOS 3.1.10.

Run `python -m tests.capture_fidelity [GROUP…]` (all groups without arguments).

The questions: what a frontend sees on the requests where the mock used to answer differently
(empty file inputs, trailing slashes, HEAD, session history, malformed multipart, ...). Each
exchange is one `NAME.json`: the request exactly as sent (method, path, headers, body) and the
answer (status, headers, body). `tests/test_fidelity.py` sends the same requests to the mock.
The server is `tests/real_agentos.py` (scripted offline model, fresh sqlite database); every
group of exchanges gets a fresh server, so each group starts from an empty database.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

OUT = Path(__file__).resolve().parent / "captures" / "agentos-3.1.10-fidelity"
RUNS = "/teams/research-team/runs"
BOUNDARY = "----fidelityBoundary7MA4YWxkTrZu0gW"
SECURITY_KEY = "fidelity-key"


def multipart(*parts: tuple[str, str | None, str | None, bytes]) -> tuple[dict[str, str], bytes]:
    """(headers, body) of a multipart form as a browser's FormData writes it: (name, filename, type, data)."""
    body = b""
    for name, filename, content_type, data in parts:
        body += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"'.encode()
        if filename is not None:
            body += f'; filename="{filename}"'.encode()
        body += b"\r\n"
        if content_type is not None:
            body += f"Content-Type: {content_type}\r\n".encode()
        body += b"\r\n" + data + b"\r\n"
    body += f"--{BOUNDARY}--\r\n".encode()
    return {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}, body


def form(**fields: str) -> tuple[dict[str, str], bytes]:
    return multipart(*((name, None, None, value.encode()) for name, value in fields.items()))


EMPTY_FILE_INPUT = ("files", "", "application/octet-stream", b"")
"""What `new FormData(form)` sends for an `<input type=file name=files>` with no file chosen."""


def _body(body: bytes) -> dict[str, str]:
    """A request body as JSON holds it: text when it is UTF-8, else base64."""
    try:
        return {"body": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"body_base64": base64.b64encode(body).decode("ascii")}


class Recorder:
    """Sends requests to one server and saves each exchange as `NAME.json`."""

    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=30)
        self.values: dict[str, Any] = {}

    def send(
        self,
        name: str,
        note: str,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | list[tuple[str, str]] | None = None,
        body: bytes = b"",
        save: bool = True,
    ) -> httpx.Response:
        pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        response = self.client.request(method, path, headers=pairs, content=body)
        if save:
            record = {
                "note": note,
                "request": {"method": method, "path": path, "headers": pairs, **_body(body)},
                "status": response.status_code,
                "headers": [[k.decode(), v.decode()] for k, v in response.headers.raw if k.lower() != b"date"],
                "body": response.content.decode("utf-8"),
            }
            (OUT / f"{name}.json").write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
        return response

    def run(
        self, name: str, note: str, *, save: bool = True, files: tuple[Any, ...] = (), **fields: str
    ) -> httpx.Response:
        parts = [(k, None, None, v.encode()) for k, v in fields.items()]
        headers, body = multipart(*parts, *files)
        return self.send(name, note, "POST", RUNS, headers=headers, body=body, save=save)


def uploads(rec: Recorder) -> None:
    rec.run(
        "u1_empty_file_input",
        "stream=false with an empty file input beside the message",
        message="hello",
        stream="false",
        files=(EMPTY_FILE_INPUT,),
    )
    rec.run(
        "u2_files_text_field",
        "a text field named files (no filename)",
        message="hello",
        stream="false",
        files=(("files", None, None, b"notes"),),
    )
    rec.send(
        "u3_multipart_garbage",
        "a multipart body that is not multipart",
        "POST",
        RUNS,
        headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
        body=b"garbage",
    )
    rec.send(
        "u4_multipart_no_boundary",
        "multipart/form-data without a boundary",
        "POST",
        RUNS,
        headers={"content-type": "multipart/form-data"},
        body=b"garbage",
    )


def http_details(rec: Recorder) -> None:
    for path in ("/teams/", "/health/", "/sessions/", "/agents/", "/config/"):
        rec.send(f"t_get{path.replace('/', '_').rstrip('_')}_slash", f"GET {path} (trailing slash)", "GET", path)
    rec.send("t_head_health", "HEAD /health", "HEAD", "/health")
    rec.send("t_post_health", "POST on a GET route", "POST", "/health")
    rec.send("t_put_sessions", "PUT on /sessions (GET and DELETE routes)", "PUT", "/sessions")
    rec.send("t_delete_sessions_no_body", "DELETE /sessions with no body", "DELETE", "/sessions")
    rec.send(
        "t_delete_sessions_empty_object",
        "DELETE /sessions with {}",
        "DELETE",
        "/sessions",
        headers={"content-type": "application/json"},
        body=b"{}",
    )


def sessions(rec: Recorder) -> None:
    rec.run(
        "s1_owned_run", "run 1 of session S1 by user u1", message="hello", stream="false", session_id="S1", user_id="u1"
    )
    rec.run("s2_no_user_into_owned", "run 2 of S1 with no user_id", message="hello", stream="false", session_id="S1")
    rec.run(
        "s3_delegating_run",
        "a delegating run in session S2, streamed",
        message="delegate",
        session_id="S2",
        user_id="u2",
    )
    rec.send("s4_session_detail", "GET /sessions/S2 after a delegating run", "GET", "/sessions/S2")
    rec.send("s5_session_runs", "GET /sessions/S2/runs: where member events are filed", "GET", "/sessions/S2/runs")
    rec.send(
        "s6_session_name_derived",
        "?session_name= a word of the first message (not renamed)",
        "GET",
        "/sessions?session_name=deleg",
    )
    rec.send(
        "s7_rename",
        "rename S2",
        "POST",
        "/sessions/S2/rename",
        headers={"content-type": "application/json"},
        body=b'{"session_name": "Capital question"}',
    )
    rec.send(
        "s8_session_name_renamed",
        "?session_name= part of a name set by rename",
        "GET",
        "/sessions?session_name=capital",
    )
    rec.send("s9_db_id_bogus_list", "GET /sessions?db_id=bogus", "GET", "/sessions?db_id=bogus")
    rec.send("s10_db_id_bogus_one", "GET /sessions/S2?db_id=bogus", "GET", "/sessions/S2?db_id=bogus")
    rec.send(
        "s11_team_session_as_agent", "GET /sessions/S2?type=agent for a team session", "GET", "/sessions/S2?type=agent"
    )
    rec.send(
        "s12_patch",
        "PATCH /sessions/S2",
        "PATCH",
        "/sessions/S2",
        headers={"content-type": "application/json"},
        body=b'{"metadata": {"pinned": true}}',
    )


def secured(rec: Recorder) -> None:
    rec.send(
        "a1_two_authorization_headers",
        "right key first, wrong key second",
        "GET",
        "/teams",
        headers=[("authorization", f"Bearer {SECURITY_KEY}"), ("authorization", "Bearer wrong")],
    )
    rec.send(
        "a2_two_authorization_headers_wrong_first",
        "wrong key first, right key second",
        "GET",
        "/teams",
        headers=[("authorization", "Bearer wrong"), ("authorization", f"Bearer {SECURITY_KEY}")],
    )
    for path in ("/", "/info", "/docs", "/redoc", "/openapi.json", "/workflows", "/memories"):
        slug = path.strip("/").replace(".", "_") or "root"
        rec.send(
            f"a_open_{slug}",
            f"GET {path} without a key on a secured AgentOS",
            "GET",
            path,
            save=path != "/openapi.json",
        )


EMPTY_STATES = (
    "/workflows",
    "/info",
    "/",
    "/memories",
    "/memory_topics",
    "/user_memory_stats",
    "/knowledge/content",
    "/knowledge/config",
    "/metrics",
    "/traces",
    "/trace_session_stats",
    "/eval-runs",
    "/schedules",
    "/approvals",
    "/approvals/count",
    "/components",
    "/registry",
    "/learnings",
    "/workflows/nope",
)


def routes(rec: Recorder) -> None:
    """The routes a dashboard or a generated client calls, on a fresh AgentOS, then the team-run reads."""
    for path in EMPTY_STATES:
        slug = path.strip("/").replace("/", "_").replace("-", "_") or "root"
        rec.send(f"r_{slug}", f"GET {path} on a fresh AgentOS", "GET", path)
    for path in ("/docs", "/redoc"):
        rec.send(f"r_{path.strip('/')}", f"GET {path}", "GET", path)
    first = rec.run(
        "r_run_delegate",
        "a delegating run to read back",
        message="delegate",
        stream="false",
        session_id="S",
        user_id="u",
    ).json()["run_id"]
    rec.send("r_team_runs", "GET /teams/{id}/runs?session_id=S", "GET", f"{RUNS}?session_id=S")
    rec.send("r_team_runs_no_session", "GET /teams/{id}/runs without session_id", "GET", RUNS)
    rec.send(
        "r_team_runs_unknown_session", "GET /teams/{id}/runs for an unknown session", "GET", f"{RUNS}?session_id=nope"
    )
    rec.send("r_team_runs_unknown_team", "GET /teams/nope/runs", "GET", "/teams/nope/runs?session_id=S")
    rec.send("r_team_run", "GET /teams/{id}/runs/{run_id}?session_id=S", "GET", f"{RUNS}/{first}?session_id=S")
    rec.send("r_team_run_unknown", "GET /teams/{id}/runs/nope?session_id=S", "GET", f"{RUNS}/nope?session_id=S")
    headers, body = form(session_id="S")
    rec.send(
        "r_continue_unknown_run",
        "POST /teams/{id}/runs/nope/continue",
        "POST",
        f"{RUNS}/nope/continue",
        headers=headers,
        body=body,
    )
    rec.send(
        "r_continue_no_session",
        "POST /teams/{id}/runs/{run_id}/continue without session_id",
        "POST",
        f"{RUNS}/{first}/continue",
    )


def png() -> bytes:
    from tests.samples import png as make

    return make()


def records(rec: Recorder) -> None:
    """What a run record holds: extra fields, uploads passed to the member, a cancelled run's record."""
    extra = {"session_state": '{"a": 1}', "metadata": '{"m": 1}'}
    image = ("files", "pixel.png", "image/png", png())
    rec.run(
        "x1_delegate_nonstream_extras",
        "stream=false delegating run with session_state, metadata, an image",
        message="delegate",
        stream="false",
        session_id="X1",
        user_id="u1",
        files=(image,),
        **extra,
    )
    rec.run(
        "x2_delegate_stream_extras",
        "the same run streamed",
        message="delegate",
        session_id="X2",
        user_id="u1",
        files=(image,),
        **extra,
    )
    rec.send("x3_team_runs_after_extras", "GET /teams/{id}/runs?session_id=X1", "GET", f"{RUNS}?session_id=X1")
    # A run cancelled while its member runs: cancel after the member's first content frame.
    headers, body = form(message="slowmember", session_id="X3", user_id="u1")
    frames: list[str] = []
    with rec.client.stream("POST", RUNS, headers=headers, content=body) as response:
        buffer = b""
        for chunk in response.iter_bytes():
            buffer += chunk
            while b"\n\n" in buffer:
                block, buffer = buffer.split(b"\n\n", 1)
                frames.append(block.decode())
                data = json.loads(block.split(b"data: ", 1)[1])
                if data["event"] == "RunContent" and not rec.values.get("cancelled"):
                    rec.values["cancelled"] = True
                    rec.client.post(f"{RUNS}/{data['parent_run_id']}/cancel")
    (OUT / "x4_cancel_during_member.json").write_text(
        json.dumps({"note": "slowmember, cancelled after the member's first RunContent", "frames": frames}, indent=1)
        + "\n"
    )
    import time

    time.sleep(3)  # the member's model keeps going until agno checks for the cancel
    rec.send("x5_session_runs_after_cancel", "GET /sessions/X3/runs after the cancel", "GET", "/sessions/X3/runs")
    rec.send(
        "x6_team_runs_after_cancel",
        "GET /teams/{id}/runs?session_id=X3 after the cancel",
        "GET",
        f"{RUNS}?session_id=X3",
    )


def _stream_frames(rec: Recorder, headers: dict[str, str], body: bytes, keep: int) -> list[str]:
    """POST a streamed run and hang up after `keep` frames; the frames read."""
    frames: list[str] = []
    with rec.client.stream("POST", RUNS, headers=headers, content=body) as response:
        buffer = b""
        for chunk in response.iter_bytes():
            buffer += chunk
            while b"\n\n" in buffer and len(frames) < keep:
                block, buffer = buffer.split(b"\n\n", 1)
                frames.append(block.decode() + "\n\n")
            if len(frames) >= keep:
                break
    return frames


def background(rec: Recorder) -> None:
    """background=true: frames with event_index, /resume while running and after, a stream=false one."""
    import time

    headers, body = form(message="slow", session_id="B1", background="true")
    first = _stream_frames(rec, headers, body, keep=5)
    (OUT / "b1_background_stream_dropped.json").write_text(
        json.dumps(
            {
                "note": "background=true stream=true `slow`, the client hangs up after 5 frames",
                "request": {"method": "POST", "path": RUNS, "headers": list(headers.items()), "body": body.decode()},
                "frames": first,
            },
            indent=1,
        )
        + "\n"
    )
    run_id = json.loads(first[0].split("data: ", 1)[1])["run_id"]
    headers, body = form(last_event_index="4", session_id="B1")
    rec.send(
        "b2_resume_running",
        "resume while the run still streams (last_event_index=4)",
        "POST",
        f"{RUNS}/{run_id}/resume",
        headers=headers,
        body=body,
    )
    time.sleep(0.5)
    rec.send(
        "b3_resume_finished",
        "resume after the run finished (last_event_index=4)",
        "POST",
        f"{RUNS}/{run_id}/resume",
        headers=headers,
        body=body,
    )
    headers, body = form(session_id="B1")
    rec.send(
        "b4_resume_finished_from_start",
        "resume after the run finished, no last_event_index",
        "POST",
        f"{RUNS}/{run_id}/resume",
        headers=headers,
        body=body,
    )
    accepted = rec.run(
        "b5_background_nonstream",
        "background=true stream=false",
        message="hello",
        stream="false",
        session_id="B2",
        background="true",
    ).json()
    time.sleep(1)
    headers, body = form(session_id="B2")
    rec.send(
        "b6_resume_nonstream",
        "resume a stream=false background run",
        "POST",
        f"{RUNS}/{accepted['run_id']}/resume",
        headers=headers,
        body=body,
    )
    rec.send("b7_resume_unknown", "resume an unknown run", "POST", f"{RUNS}/nope/resume", headers=headers, body=body)
    rec.send("b8_resume_no_session", "resume without session_id", "POST", f"{RUNS}/nope/resume")
    rec.send(
        "b9_background_get", "GET the background stream=false run", "GET", f"{RUNS}/{accepted['run_id']}?session_id=B2"
    )


def parallel(rec: Recorder) -> None:
    """Two delegations in one model response (the leader of `_parallel_server`)."""
    headers, body = form(message="both")
    rec.send(
        "p1_parallel_delegations",
        "one model response holding two delegate_task_to_member calls",
        "POST",
        RUNS,
        headers=headers,
        body=body,
    )
    headers, body = form(message="twice")
    rec.send(
        "p2_sequential_delegations",
        "two delegations, one model response each",
        "POST",
        RUNS,
        headers=headers,
        body=body,
    )


@contextmanager
def _parallel_server() -> Iterator[str]:
    """The harness's AgentOS whose leader answers `both` with two tool calls in one response."""
    import tempfile
    from uuid import uuid4

    from agno.models.response import ModelResponse

    from tests.conftest import serve_app
    from tests.real_agentos import LEADER, ScriptedModel, Text, ToolCall, build_agentos

    twice = (
        ToolCall("delegate_task_to_member", {"member_id": "researcher", "task": "Look up France. [lookup]"}),
        ToolCall("delegate_task_to_member", {"member_id": "writer", "task": "Write it. [write]"}),
        Text(("Both members answered.",)),
    )

    class TwoCalls(ScriptedModel):
        def step(self, messages):  # type: ignore[no-untyped-def]
            users = [m for m in messages if m.role == "user"]
            if "both" not in users[-1].get_content_string():
                return super().step(messages)
            done = [m for m in messages if m.role == "assistant"]
            return "both" if not done else Text(("Both members answered.",))

        def _answer(self, messages):  # type: ignore[no-untyped-def]
            step = self.step(messages)
            if step != "both":
                return None
            calls = [
                {
                    "id": f"call_{uuid4().hex[:24]}",
                    "type": "function",
                    "function": {
                        "name": "delegate_task_to_member",
                        "arguments": json.dumps({"member_id": member, "task": task}),
                    },
                }
                for member, task in (("researcher", "Look up France. [lookup]"), ("writer", "Write it. [write]"))
            ]
            return ModelResponse(role="assistant", tool_calls=calls)

        async def ainvoke_stream(self, messages, **kwargs):  # type: ignore[no-untyped-def,override]
            answer = self._answer(messages)
            if answer is not None:
                yield answer
                return
            async for delta in super().ainvoke_stream(messages, **kwargs):
                yield delta

    with tempfile.TemporaryDirectory(prefix="real-agentos-") as folder:
        agentos = build_agentos(Path(folder) / "agentos.db")
        agentos.teams[0].model = TwoCalls(scripts={**LEADER, "twice": twice})
        with serve_app(agentos.get_app()) as (url, _):
            yield url


GROUPS: dict[str, tuple[Callable[[Recorder], None], str | None]] = {
    "parallel": (parallel, "parallel"),
    "background": (background, None),
    "records": (records, None),
    "routes": (routes, None),
    "uploads": (uploads, None),
    "http": (http_details, None),
    "sessions": (sessions, None),
    "secured": (secured, SECURITY_KEY),
}


@contextmanager
def _server(security_key: str | None) -> Iterator[str]:
    from tests.real_agentos import run_real_agentos

    if security_key == "parallel":
        with _parallel_server() as url:
            yield url
        return
    with run_real_agentos(security_key=security_key) as url:
        yield url


def main(only: list[str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (group, key) in GROUPS.items():
        if only and name not in only:
            continue
        with _server(key) as url:
            group(Recorder(url))
        print(f"captured {name}")


if __name__ == "__main__":
    main(sys.argv[1:])  # group names, or none for all
