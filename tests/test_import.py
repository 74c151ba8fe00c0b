"""`mockserver import`: a curl capture or a browser HAR file becomes scenarios that replay it."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.scenarios.loader import load_directory
from mockserver.scenarios.model import RawEvent
from mockserver.settings import Settings
from tests.conftest import CAPTURES, capture_frames, parse_sse, run_server


def run_import(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockserver", "import", *args], capture_output=True, text=True, timeout=60
    )


def test_a_curl_capture_replays_its_frames(tmp_path: Path) -> None:
    result = run_import(str(CAPTURES / "a_stream_true.body"), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('imported research-team "(imported)": 28 frames → ')
    with run_server(Settings(scenarios=tmp_path, speed=0)) as url:
        frames = parse_sse(httpx.post(f"{url}/teams/research-team/runs", data={"message": "any"}).content)
    assert [e for e, _ in frames] == [e for e, _ in capture_frames("a_stream_true")]


def har_entry(message: str, capture: str, *, wait: float, receive: float, multipart: bool) -> dict:
    body = (CAPTURES / f"{capture}.body").read_bytes()
    if multipart:
        text = (
            '--b\r\nContent-Disposition: form-data; name="message"\r\n\r\n' + message + "\r\n"
            '--b\r\nContent-Disposition: form-data; name="files"; filename="dot.png"\r\n'
            "Content-Type: image/png\r\n\r\nPNGDATA\r\n--b--\r\n"
        )
        post = {"mimeType": "multipart/form-data; boundary=b", "text": text}
    else:
        post = {"mimeType": "application/x-www-form-urlencoded", "text": f"message={message}&stream=true"}
    return {
        "request": {
            "method": "POST",
            "url": "http://localhost:7777/teams/research-team/runs",
            "postData": post,
            "headers": [{"name": "Authorization", "value": "Bearer har-secret"}],
        },
        "response": {
            "status": 200,
            "content": {"mimeType": "text/event-stream", "encoding": "base64", "text": base64.b64encode(body).decode()},
        },
        "timings": {"blocked": 1, "dns": -1, "connect": -1, "send": 0.5, "wait": wait, "receive": receive},
    }


def test_a_har_file_gives_each_team_run_its_message_and_the_timing_it_kept(tmp_path: Path) -> None:
    har = tmp_path / "session.har"
    entries = [
        har_entry("hello", "a2_stream_true_direct", wait=118.5, receive=300, multipart=False),
        {"request": {"method": "GET", "url": "http://localhost:7777/teams"}, "response": {"content": {}}},
        har_entry("with a file", "a_stream_true", wait=40, receive=270, multipart=True),
    ]
    har.write_text(json.dumps({"log": {"version": "1.2", "entries": entries}}))
    out = tmp_path / "out"
    result = run_import(str(har), "--out", str(out), "--team-id", "demo")
    assert result.returncode == 0, result.stderr
    written = (out / "demo.yaml").read_text()
    assert "har-secret" not in written and "dot.png (image/png, 7 B)" in written
    team = load_directory(out).teams["demo"]
    by_name = {s.name: s for s in team.scenarios}
    second, first = by_name["turn 2: with a file"], by_name["turn 1: hello"]
    assert second.match is not None and second.match.pattern == "^with\\ a\\ file$" and first.match is None
    steps = [s for s in first.steps if isinstance(s, RawEvent)]
    assert steps[0].delay == 0.12  # blocked + send + wait: the head
    assert abs(sum(s.delay or 0 for s in steps) - 0.42) < 0.001  # then `receive` spread over the frames
    with run_server(Settings(scenarios=out, speed=0)) as url:
        frames = parse_sse(httpx.post(f"{url}/teams/demo/runs", data={"message": "with a file"}).content)
    assert [e for e, _ in frames] == [e for e, _ in capture_frames("a_stream_true")]


def test_a_file_that_is_neither_is_refused_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello\n")
    result = run_import(str(tmp_path / "notes.txt"), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "no SSE frames" in result.stderr and not (tmp_path / "out").exists()


def test_json_nested_deeper_than_json_can_go_is_refused_with_a_reason(tmp_path: Path) -> None:
    har = tmp_path / "deep.har"
    har.write_text('{"log": ' + "[" * 5000 + "]" * 5000 + "}")
    frames = tmp_path / "deep.sse"
    frames.write_text("event: TeamRunStarted\ndata: " + "[" * 5000 + "]" * 5000 + "\n\n")
    for path, reason in ((har, "not valid JSON"), (frames, "no SSE frames")):
        result = run_import(str(path), "--out", str(tmp_path / "out"))
        assert result.returncode == 1, result.stderr
        assert reason in result.stderr and "Traceback" not in result.stderr


ENTRY = {"request": {"method": "POST", "url": "http://x/teams/t/runs"}, "response": {"content": {}}}
STREAM = {"mimeType": "text/event-stream", "text": "event: TeamRunStarted\ndata: {}\n\n"}


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({"log": 5}, "not a HAR file: its `log.entries` is not a list"),
        ({"log": {"entries": {"a": 1}}}, "not a HAR file"),
        ({"log": {"entries": [5, None, {"request": 5, "response": []}]}}, "no streamed POST /teams/{id}/runs entries"),
        (
            {"log": {"entries": [{**ENTRY, "response": {"content": {**STREAM, "encoding": "base64", "text": "@"}}}]}},
            "no streamed POST /teams/{id}/runs entries",
        ),
        (
            {"log": {"entries": [{**ENTRY, "response": {"content": STREAM}, "timings": {"wait": "x", "send": None}}]}},
            None,
        ),
        (
            {
                "log": {
                    "entries": [
                        {
                            **ENTRY,
                            "request": {**ENTRY["request"], "url": "http://x/teams/..%2f..%2fx/runs"},
                            "response": {"content": STREAM},
                        }
                    ]
                }
            },
            "its runs do not make a scenario that loads",
        ),
        (
            {
                "log": {
                    "entries": [
                        {
                            **ENTRY,
                            "request": {**ENTRY["request"], "url": "http://x/teams/a%20b/runs"},
                            "response": {"content": STREAM},
                        }
                    ]
                }
            },
            "its runs do not make a scenario that loads",
        ),
    ],
    ids=["log", "entries", "parts", "base64", "timings", "traversal", "team-id"],
)
def test_a_malformed_har_file_is_refused_with_a_reason(tmp_path: Path, document: Any, reason: str | None) -> None:
    path = tmp_path / "capture.har"
    path.write_text(json.dumps(document))
    result = run_import(str(path), "--out", str(tmp_path / "out"))
    assert "Traceback" not in result.stderr
    if reason is None:  # timings that are not numbers count as none
        assert result.returncode == 0, result.stderr
        assert (tmp_path / "out" / "t.yaml").exists()
    else:
        assert result.returncode == 1 and reason in result.stderr, result.stderr
        assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
