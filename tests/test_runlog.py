"""One log line per run, in text or JSON, with how the run ended."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest

from mockserver.agentos.expand import build_plan
from mockserver.app import create_app
from mockserver.logs import JsonFormatter, QuietAccess, TextFormatter
from mockserver.run.delivery import PLAIN
from mockserver.run.pipeline import RunResponse
from mockserver.run.plan import RunContext
from mockserver.run.stamp import Stamp
from mockserver.scenarios.loader import load_text
from mockserver.settings import Settings
from mockserver.wire.sse import AgentOSEvents
from tests.conftest import SHIPPED, parse_sse, run_server

FAILING = """\
version: 1
team:
  id: failing-team
  name: Failing Team
scenarios:
  - name: model-error
    events:
      - text: Let me check
      - event: TeamRunError
        content: The model provider is down
        error_type: ModelProviderError
"""


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("scenarios")
    for path in SHIPPED.glob("*.yaml"):
        (folder / path.name).write_text(path.read_text())
    (folder / "failing.yaml").write_text(FAILING)
    with run_server(Settings(scenarios=folder, speed=0)) as url:
        yield url


def run_lines(caplog: pytest.LogCaptureFixture, count: int = 1) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 5
    while True:
        lines = [r.fields for r in caplog.records if r.name == "mockserver.runs"]  # type: ignore[attr-defined]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.01)


def test_a_streamed_run_logs_one_line_with_what_was_sent(url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mockserver")
    response = httpx.post(f"{url}/teams/research-team/runs", data={"message": "hi", "session_id": "s-1"})
    frames = parse_sse(response.content)
    [line] = run_lines(caplog)
    assert line["team"] == "research-team" and line["scenario"] == "research"
    assert line["session"] == "s-1" and line["run"] == frames[0][1]["run_id"]
    assert (line["stream"], line["status"], line["events"], line["ended"]) == (True, 200, len(frames), "completed")
    assert isinstance(line["duration_ms"], int)


def test_a_run_answered_as_json_logs_its_events_too(url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mockserver")
    body = httpx.post(f"{url}/teams/quick-team/runs", data={"message": "hi", "stream": "false"}).json()
    [line] = run_lines(caplog)
    assert (line["stream"], line["ended"], line["session"]) == (False, "completed", body["session_id"])
    assert line["events"] > 2


@pytest.mark.parametrize("stream", ["true", "false"])
def test_a_run_that_sends_team_run_error_ended_in_error(
    url: str, caplog: pytest.LogCaptureFixture, stream: str
) -> None:
    caplog.set_level(logging.INFO, logger="mockserver")
    assert httpx.post(f"{url}/teams/failing-team/runs", data={"message": "hi", "stream": stream}).status_code == 200
    [line] = run_lines(caplog)
    assert line["ended"] == "error"


def test_a_client_that_leaves_mid_stream_is_logged_as_disconnected(url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mockserver")
    with httpx.stream(
        "POST", f"{url}/teams/research-team/runs", data={"message": "hi"}, headers={"X-Mock-Speed": "0.5"}
    ) as response:
        next(response.iter_raw())
    [line] = run_lines(caplog)
    assert line["ended"] == "disconnected"
    assert 1 <= line["events"] < 10


def test_rejected_requests_log_no_run_line(url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mockserver")
    assert httpx.post(f"{url}/teams/nobody/runs", data={"message": "hi"}).status_code == 404
    time.sleep(0.05)
    assert run_lines(caplog, count=0) == []


def record(message: str, args: tuple[Any, ...] | None = None, **fields: Any) -> logging.LogRecord:
    entry = logging.LogRecord("mockserver.runs", logging.INFO, __file__, 1, message, args, None)
    entry.fields = fields  # type: ignore[attr-defined]
    return entry


def test_text_lines_are_key_value_pairs_quoted_only_when_needed() -> None:
    line = TextFormatter().format(record("run", team="t", scenario="two words", stream=False, session=None, events=3))
    assert line.endswith(' INFO  run team=t scenario="two words" stream=false session=- events=3')
    assert line[:4].isdigit() and "T" in line.split()[0]


def test_json_lines_are_one_object_with_the_fields_at_the_top() -> None:
    entry = json.loads(JsonFormatter().format(record("run", team="t", events=3, stream=True)))
    assert entry["message"] == "run" and entry["level"] == "info" and entry["logger"] == "mockserver.runs"
    assert (entry["team"], entry["events"], entry["stream"]) == ("t", 3, True)


@pytest.mark.parametrize(
    ("method", "path", "status", "kept"),
    [
        ("POST", "/teams/a/runs", 200, False),
        ("POST", "/teams/a/runs/", 200, False),
        ("GET", "/health", 200, False),
        ("POST", "/teams/a/runs", 404, True),
        ("POST", "/teams/a/runs", 422, True),
        ("GET", "/health", 500, True),
        ("GET", "/teams", 200, True),
    ],
)
def test_the_access_log_keeps_what_the_run_lines_do_not_cover(method: str, path: str, status: int, kept: bool) -> None:
    access = record('%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5000", method, path, "1.1", status))
    assert QuietAccess().filter(access) is kept


def test_json_access_lines_carry_the_request_fields() -> None:
    access = record('%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5000", "POST", "/teams/a/runs", "1.1", 404))
    access.name = "uvicorn.access"
    entry = json.loads(JsonFormatter().format(access))
    assert (entry["method"], entry["path"], entry["status"], entry["client"]) == (
        "POST",
        "/teams/a/runs",
        404,
        "127.0.0.1:5000",
    )


def test_a_run_with_nothing_to_wait_for_still_stops_at_shutdown(caplog: pytest.LogCaptureFixture) -> None:
    """At speed 0 every frame is due at once; the shutdown still ends the run between batches."""
    app = create_app(Settings(scenarios=SHIPPED, speed=0))
    state = app.state.mock
    body = "\n".join(f"      - event: CustomEvent\n        n: {n}" for n in range(1000))
    team = load_text(f"version: 1\nteam: {{id: many, name: Many}}\nscenarios:\n  - name: all\n    events:\n{body}\n")
    context = RunContext(team=team, scenario=team.scenarios[0], message="m", session_id="s", run_id="r")
    response = RunResponse(state, build_plan(context, speed=0), Stamp(context), PLAIN, AgentOSEvents(), stream=True)
    chunks: list[bytes] = []

    async def receive() -> Any:
        await anyio.sleep_forever()

    async def send(message: Any) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message["body"])
            if len(chunks) == 2:
                state.stopping.set()

    caplog.set_level(logging.INFO, logger="mockserver")
    anyio.run(response, {"type": "http"}, receive, send)
    [line] = run_lines(caplog)
    assert line["ended"] == "shutdown" and 0 < line["events"] < 1000
    assert chunks[-1] == b"", "the response still ends properly"


def test_a_run_a_fault_takes_over_logs_the_fault_and_its_status(url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mockserver")
    assert httpx.post(f"{url}/teams/error-500/runs", data={"message": "hi"}).status_code == 500
    [line] = run_lines(caplog)
    assert (line["team"], line["status"], line["ended"], line["fault"]) == ("error-500", 500, "refused", "status")


def test_a_fault_that_streams_logs_when_it_ends_with_what_it_sent(url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mockserver")
    frames = parse_sse(httpx.post(f"{url}/teams/error-midstream/runs", data={"message": "hi"}).content)
    [line] = run_lines(caplog)
    assert (line["team"], line["status"], line["events"], line["ended"], line["fault"]) == (
        "error-midstream",
        200,
        len(frames),
        "error",
        "error",
    )
