"""Every fault, seen by real HTTP clients (httpx streaming, curl -N) against a real uvicorn."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from mockserver.app import create_app
from mockserver.settings import Settings
from tests.conftest import CAPTURES, SHIPPED, parse_sse, serve_app

FAULT_SCENARIOS = Path(__file__).resolve().parent / "fault_scenarios"
KEEP_ALIVE = b": keep-alive\n\n"


@contextmanager
def serve(directory: Path, **options: Any) -> Iterator[tuple[str, uvicorn.Server]]:
    """Like conftest.run_server, but also hands back the uvicorn server to look at its loop."""
    with serve_app(create_app(Settings(scenarios=directory, **options))) as running:
        yield running


def server_tasks(server: uvicorn.Server) -> int:
    """How many asyncio tasks the server's loop holds (the serving task itself included)."""
    loop = server.servers[0].get_loop()

    async def count() -> int:
        return len(asyncio.all_tasks()) - 1

    return asyncio.run_coroutine_threadsafe(count(), loop).result(5)


def idle_tasks(server: uvicorn.Server) -> int:
    """The task count once no request is in flight (earlier tests' connections may be closing)."""
    deadline = time.monotonic() + 3
    while server.server_state.tasks and time.monotonic() < deadline:
        time.sleep(0.02)
    return server_tasks(server)


def wait_for_tasks(server: uvicorn.Server, expected: int, timeout: float = 3.0) -> int:
    deadline = time.monotonic() + timeout
    while (tasks := server_tasks(server)) > expected and time.monotonic() < deadline:
        time.sleep(0.02)
    return tasks


@pytest.fixture(scope="module")
def faulty() -> Iterator[tuple[str, uvicorn.Server]]:
    with serve(FAULT_SCENARIOS, speed=0) as running:
        yield running


@pytest.fixture(scope="module")
def faulty_url(faulty: tuple[str, uvicorn.Server]) -> str:
    return faulty[0]


@pytest.fixture
def uvicorn_errors() -> Iterator[list[logging.LogRecord]]:
    """ERROR records uvicorn logs while the test runs (a traceback or a broken response)."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect(logging.ERROR)
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def run(url: str, team: str, message: str = "hi", **form: str) -> httpx.Response:
    return httpx.post(f"{url}/teams/{team}/runs", data={"message": message, **form}, timeout=10)


def events(response: httpx.Response) -> list[str]:
    return [name for name, _ in parse_sse(response.content)]


def capture(name: str) -> list[tuple[str, dict[str, Any]]]:
    return parse_sse((CAPTURES / f"{name}.body").read_bytes())


# -- HTTP failures before streaming ------------------------------------------------------------


@pytest.mark.parametrize(
    ("team", "status", "body", "headers"),
    [
        ("error-500", 500, {"detail": "Internal server error", "error_code": "INTERNAL_SERVER_ERROR"}, {}),
        ("error-401", 401, {"detail": "Invalid authentication token", "error_code": "UNAUTHENTICATED"}, {}),
        (
            "error-429",
            429,
            {"detail": "Rate limit exceeded, retry in 30 seconds", "error_code": "RATE_LIMITED"},
            {"retry-after": "30"},
        ),
    ],
)
@pytest.mark.parametrize("stream", ["true", "false"])
def test_http_faults_answer_before_streaming(
    shipped_url: str, team: str, status: int, body: dict[str, str], headers: dict[str, str], stream: str
) -> None:
    response = run(shipped_url, team, stream=stream)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json() == body
    for name, value in headers.items():
        assert response.headers[name] == value


def test_http_fault_in_the_agentos_error_format_is_detail_only() -> None:
    with serve(SHIPPED, speed=0, error_format="agentos") as (url, _):
        response = run(url, "error-500")
    assert response.status_code == 500
    assert response.content == b'{"detail":"Internal server error"}'


def test_http_fault_defaults_follow_the_status(faulty_url: str) -> None:
    response = run(faulty_url, "faulty", "teapot")
    assert response.status_code == 418
    assert response.json() == {"detail": "I'm a Teapot", "error_code": "IM_A_TEAPOT"}


def test_http_fault_with_a_body_from_the_file(faulty_url: str) -> None:
    as_json = run(faulty_url, "faulty", "body-json")
    assert (as_json.status_code, as_json.json()) == (502, {"error": "upstream", "retry": False})
    as_text = run(faulty_url, "faulty", "body-text")
    assert as_text.status_code == 502
    assert as_text.headers["content-type"] == "text/plain; charset=utf-8"
    assert as_text.text == "<html><body>502 Bad Gateway</body></html>"


def test_http_fault_waits_its_latency_before_the_head(faulty_url: str) -> None:
    started = time.monotonic()
    response = run(faulty_url, "faulty", "late-500")
    assert response.status_code == 500
    assert time.monotonic() - started >= 0.25


def test_a_glob_rule_covers_the_teams_of_other_files(faulty_url: str) -> None:
    for team in ("glob-home", "glob-other"):
        response = run(faulty_url, team, "conflict")
        assert (response.status_code, response.json()["detail"]) == (409, "Conflict everywhere")
    assert run(faulty_url, "glob-other", "no conflict here").status_code == 200


def test_curl_sees_the_status_headers_and_body(shipped_url: str) -> None:
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    result = subprocess.run(
        [curl, "-sS", "-i", "-N", "-F", "message=hi", f"{shipped_url}/teams/error-429/runs"],
        capture_output=True,
        timeout=10,
    )
    head, _, body = result.stdout.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 429 Too Many Requests")
    assert b"\r\nretry-after: 30" in head
    assert json.loads(body)["error_code"] == "RATE_LIMITED"


# -- run error mid-stream ----------------------------------------------------------------------


def test_midstream_error_ends_the_stream_with_team_run_error(shipped_url: str) -> None:
    response = run(shipped_url, "error-midstream")
    assert response.status_code == 200
    frames = parse_sse(response.content)
    assert [name for name, _ in frames] == ["TeamRunStarted", "TeamModelRequestStarted"] + ["TeamRunContent"] * 4 + [
        "TeamRunError"
    ]
    _, error = frames[-1]
    real = capture("l1_model_error_stream")[-1][1]
    assert list(error) == list(real)
    assert error["content"] == "Model provider error: the upstream model returned 500 (overloaded)"
    assert error["error_type"] == "ModelProviderError"
    assert error["run_id"] == frames[0][1]["run_id"]


def test_midstream_error_without_streaming_is_a_200_error_body(shipped_url: str) -> None:
    response = run(shipped_url, "error-midstream", stream="false")
    assert response.status_code == 200
    body = response.json()
    real = json.loads((CAPTURES / "l2_model_error_nonstream.body").read_bytes())
    assert list(body) == list(real)
    assert body["status"] == "ERROR"
    assert (
        body["content"]
        == body["events"][0]["content"]
        == "Model provider error: the upstream model returned 500 (overloaded)"
    )


def test_run_error_with_error_id(faulty_url: str) -> None:
    frames = parse_sse(run(faulty_url, "faulty", "error-id").content)
    assert [name for name, _ in frames] == ["TeamRunStarted", "TeamModelRequestStarted", "TeamRunError"]
    error = frames[-1][1]
    assert (error["content"], error["error_type"], error["error_id"]) == ("boom", "AgnoError", "E42")


def test_run_error_after_a_time_scales_with_the_speed(faulty_url: str) -> None:
    # gap 100ms, 10 words/s: frames at 0, 0.1, 0.2, 0.3 ...; `after: 250ms` keeps the first three
    response = httpx.post(
        f"{faulty_url}/teams/faulty/runs", data={"message": "error-at-time"}, headers={"X-Mock-Speed": "1"}, timeout=10
    )
    assert events(response) == ["TeamRunStarted", "TeamModelRequestStarted", "TeamRunContent", "TeamRunError"]


# -- cancelled run -----------------------------------------------------------------------------


def test_cancelled_run_ends_with_the_real_pair(shipped_url: str) -> None:
    frames = parse_sse(run(shipped_url, "error-cancelled").content)
    names = [name for name, _ in frames]
    assert names == ["TeamRunStarted", "TeamModelRequestStarted"] + ["TeamRunContent"] * 4 + [
        "TeamRunCancelled",
        "TeamRunCompleted",
    ]
    real = capture("i1_cancel_stream")
    (_, cancelled), (_, completed) = frames[-2:]
    assert list(cancelled) == list(real[-2][1])
    assert list(completed) == list(real[-1][1])
    run_id = frames[0][1]["run_id"]
    partial = "".join(data["content"] for name, data in frames if name == "TeamRunContent")
    assert partial == "Here is a long "
    assert cancelled["reason"] == f"Run {run_id} was cancelled"
    assert cancelled["content"] == completed["content"] == partial


def test_cancelled_before_any_content_carries_the_reason(faulty_url: str) -> None:
    frames = parse_sse(run(faulty_url, "faulty", "cancel-first").content)
    assert [name for name, _ in frames] == ["TeamRunStarted", "TeamRunCancelled", "TeamRunCompleted"]
    assert frames[1][1]["content"] == frames[1][1]["reason"] == f"Run {frames[0][1]['run_id']} was cancelled"


def test_cancelled_run_without_streaming(shipped_url: str) -> None:
    body = run(shipped_url, "error-cancelled", stream="false").json()
    assert (body["status"], body["content"]) == ("CANCELLED", "Here is a long ")


# -- abrupt drop -------------------------------------------------------------------------------


def test_drop_is_an_incomplete_chunked_response(shipped_url: str, uvicorn_errors: list[logging.LogRecord]) -> None:
    received = b""
    with httpx.stream("POST", f"{shipped_url}/teams/error-drop/runs", data={"message": "hi"}, timeout=10) as response:
        assert response.status_code == 200
        assert response.headers["transfer-encoding"] == "chunked"
        with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
            for chunk in response.iter_raw():
                received += chunk
    assert [name for name, _ in parse_sse(received)] == ["TeamRunStarted", "TeamModelRequestStarted"] + [
        "TeamRunContent"
    ] * 3
    assert uvicorn_errors == []


def test_drop_after_no_event_sends_only_the_head(faulty_url: str) -> None:
    with httpx.stream("POST", f"{faulty_url}/teams/faulty/runs", data={"message": "drop-zero"}, timeout=10) as response:
        assert response.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            response.read()


def test_drop_without_streaming_cuts_the_json_short(shipped_url: str, uvicorn_errors: list[logging.LogRecord]) -> None:
    with pytest.raises(httpx.RemoteProtocolError, match="peer closed connection"):
        run(shipped_url, "error-drop", stream="false")
    assert uvicorn_errors == []


def test_curl_reports_the_drop_as_a_partial_transfer(shipped_url: str) -> None:
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    result = subprocess.run(
        [curl, "-sS", "-N", "-F", "message=hi", f"{shipped_url}/teams/error-drop/runs"], capture_output=True, timeout=10
    )
    assert result.returncode == 18, result.stderr  # CURLE_PARTIAL_FILE
    assert [name for name, _ in parse_sse(result.stdout)][-1] == "TeamRunContent"


# -- stall -------------------------------------------------------------------------------------


def read_for(chunks: Iterator[bytes], seconds: float) -> bytes:
    """What the stream sends within `seconds`; the connection stays open."""
    received = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        received += next(chunks)
    return received


def test_stall_sends_only_comments_until_the_client_leaves_then_frees_the_stream(
    faulty: tuple[str, uvicorn.Server],
) -> None:
    url, server = faulty
    idle = idle_tasks(server)
    with httpx.stream("POST", f"{url}/teams/faulty/runs", data={"message": "stall-forever"}, timeout=10) as response:
        chunks = response.iter_raw()
        received = read_for(chunks, 0.5)
        assert server_tasks(server) > idle, "the stalled stream is still being served"
        received += read_for(chunks, 0.2)
    frames_part, _, after = received.partition(KEEP_ALIVE)
    assert [name for name, _ in parse_sse(frames_part)] == [
        "TeamRunStarted",
        "TeamModelRequestStarted",
        "TeamRunContent",
    ]
    assert after.replace(KEEP_ALIVE, b"") == b""
    assert received.count(KEEP_ALIVE) >= 5
    assert wait_for_tasks(server, idle) == idle


def test_silent_stall_holds_until_the_client_times_out(faulty: tuple[str, uvicorn.Server]) -> None:
    url, server = faulty
    idle = idle_tasks(server)
    received = b""
    with (
        httpx.stream(
            "POST", f"{url}/teams/faulty/runs", data={"message": "stall-silent"}, timeout=httpx.Timeout(10, read=0.4)
        ) as response,
        pytest.raises(httpx.ReadTimeout),
    ):
        for chunk in response.iter_raw():
            received += chunk
    assert [name for name, _ in parse_sse(received)] == ["TeamRunStarted", "TeamModelRequestStarted", "TeamRunContent"]
    assert wait_for_tasks(server, idle) == idle


def test_stall_with_a_hold_resumes_the_stream(faulty_url: str) -> None:
    started = time.monotonic()
    response = run(faulty_url, "faulty", "stall-hold")
    assert time.monotonic() - started >= 0.3
    body = response.content
    assert body.count(KEEP_ALIVE) == 2  # at 100ms and 200ms of a 300ms hold
    frames = parse_sse(body.replace(KEEP_ALIVE, b""))
    assert frames[-1][0] == "TeamRunCompleted"
    assert frames[-1][1]["content"] == "one two three four five six seven eight"


def test_stall_without_streaming_holds_the_head_until_the_client_leaves(faulty: tuple[str, uvicorn.Server]) -> None:
    url, server = faulty
    idle = idle_tasks(server)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{url}/teams/faulty/runs",
            data={"message": "stall-nonstream", "stream": "false"},
            timeout=httpx.Timeout(10, read=0.3),
        )
    assert wait_for_tasks(server, idle) == idle


def test_curl_gives_up_on_a_stall(shipped_url: str) -> None:
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    result = subprocess.run(
        [curl, "-sS", "-N", "--max-time", "0.5", "-F", "message=hi", f"{shipped_url}/teams/error-stall/runs"],
        capture_output=True,
        timeout=10,
    )
    assert result.returncode == 28, result.stderr  # CURLE_OPERATION_TIMEDOUT
    assert [name for name, _ in parse_sse(result.stdout)][-1] == "TeamRunContent"


# -- slow first byte ---------------------------------------------------------------------------


def test_slow_first_byte_then_the_normal_answer(faulty_url: str) -> None:
    started = time.monotonic()
    with httpx.stream("POST", f"{faulty_url}/teams/faulty/runs", data={"message": "slow"}, timeout=10) as response:
        head_after = time.monotonic() - started
        body = response.read()
    assert head_after >= 0.3
    assert events_of(body)[-1] == "TeamRunCompleted"


def test_a_client_that_leaves_during_the_wait_frees_the_request(faulty: tuple[str, uvicorn.Server]) -> None:
    url, server = faulty
    idle = idle_tasks(server)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{url}/teams/faulty/runs", data={"message": "slow"}, timeout=httpx.Timeout(10, read=0.1))
    assert wait_for_tasks(server, idle) == idle


def events_of(body: bytes) -> list[str]:
    return [name for name, _ in parse_sse(body)]


# -- flaky -------------------------------------------------------------------------------------


def statuses(url: str, team: str, messages: list[str], **form: str) -> list[int]:
    with httpx.Client(base_url=url, timeout=10) as client:
        return [
            client.post(f"/teams/{team}/runs", data={"message": m, "stream": "false", **form}).status_code
            for m in messages
        ]


def test_flaky_fails_the_first_requests_then_works() -> None:
    with serve(SHIPPED, speed=0) as (url, _):
        assert statuses(url, "error-flaky", ["hi"] * 4) == [503, 503, 200, 200]
        assert run(url, "error-flaky").status_code == 200


def test_flaky_per_session_counts_each_session() -> None:
    with serve(FAULT_SCENARIOS, speed=0) as (url, _):
        assert statuses(url, "faulty", ["per-session"] * 3, session_id="a") == [503, 503, 200]
        assert statuses(url, "faulty", ["per-session"] * 3, session_id="b") == [503, 503, 200]
        assert statuses(url, "faulty", ["per-session"], session_id="a") == [200]


def probabilistic_run(seed: int, interleave: bool) -> list[int]:
    with serve(FAULT_SCENARIOS, speed=0, seed=seed) as (url, _), httpx.Client(base_url=url, timeout=10) as client:
        seen = []
        for _ in range(16):
            seen.append(client.post("/teams/faulty/runs", data={"message": "lucky", "stream": "false"}).status_code)
            if interleave:
                client.post("/teams/faulty/runs", data={"message": "lucky charm", "stream": "false"})
        return seen


def test_probabilistic_faults_repeat_with_the_same_seed() -> None:
    first = probabilistic_run(seed=7, interleave=False)
    assert set(first) == {200, 500}
    assert first[::2] == probabilistic_run(seed=7, interleave=True)[:8]
    assert first != probabilistic_run(seed=8, interleave=False)


def test_cancel_during_a_member_run_ends_the_member_first(faulty_url: str) -> None:
    frames = parse_sse(run(faulty_url, "delegating").content)
    names = [name for name, _ in frames]
    assert names == [
        "TeamRunStarted",
        "TeamModelRequestStarted",
        "TeamModelRequestCompleted",
        "TeamToolCallStarted",
        "RunStarted",
        "ModelRequestStarted",
        "RunContent",
        "RunContent",
        "RunCancelled",
        "RunCompleted",
        "TeamRunCancelled",
        "TeamRunCompleted",
    ]
    real = capture("i7_cancel_during_member_run")
    member_run = frames[4][1]["run_id"]
    (_, cancelled), (_, completed) = frames[8:10]
    assert list(cancelled) == list(real[-4][1]) and list(completed) == list(real[-3][1])
    assert cancelled["reason"] == f"Run {member_run} was cancelled"
    assert cancelled["content"] == completed["content"] == "member chunk "
    assert cancelled["parent_run_id"] == frames[0][1]["run_id"]
