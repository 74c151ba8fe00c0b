"""`mockserver record`: a run recorded from a server replays with the same frames and timing."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from mockserver.settings import Settings
from tests.conftest import TEST_SCENARIOS, parse_sse, run_server


def test_record_then_replay_keeps_frames_and_timing(tmp_path: Path) -> None:
    out = tmp_path / "recorded" / "research.yaml"
    out.parent.mkdir()
    with run_server(Settings(scenarios=TEST_SCENARIOS, speed=1)) as source:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "mockserver",
                "record",
                source,
                "--team",
                "timing-team",
                "--message",
                "paced",
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        original = parse_sse(
            httpx.post(
                f"{source}/teams/timing-team/runs", data={"message": "paced"}, headers={"X-Mock-Speed": "0"}
            ).content
        )
    text = out.read_text()
    assert text.startswith("# Recorded by `mockserver record`") and '"paced"' in text
    with run_server(Settings(scenarios=out.parent, speed=1)) as replay:
        started = time.monotonic()
        with httpx.stream("POST", f"{replay}/teams/timing-team/runs", data={"message": "anything"}) as response:
            arrivals = []
            for chunk in response.iter_raw():
                arrivals.append(time.monotonic() - started)
                assert chunk.endswith(b"\n\n")
        replayed = parse_sse(
            httpx.post(f"{replay}/teams/timing-team/runs", data={"message": "x"}, headers={"X-Mock-Speed": "0"}).content
        )
    assert [e for e, _ in replayed] == [e for e, _ in original]
    assert [d.get("content") for _, d in replayed] == [d.get("content") for _, d in original]
    # The recorded run took about 0.6 s (50 ms gaps); the replay keeps that shape.
    assert arrivals[-1] >= 0.5


def test_record_names_an_unreachable_server(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mockserver",
            "record",
            "http://127.0.0.1:9",
            "--team",
            "t",
            "--message",
            "m",
            "--out",
            str(tmp_path / "x.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and "could not record from http://127.0.0.1:9" in result.stderr
