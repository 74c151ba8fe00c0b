"""SIGTERM to a real `mockserver serve` process: open streams end at once, the process exits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import SHIPPED, free_port

STREAMS = 50


@pytest.fixture(params=["text", "json"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    mockserver = Path(sys.executable).parent / "mockserver"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSERVER_")}
    process = subprocess.Popen(
        [
            str(mockserver),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--scenarios",
            str(SHIPPED),
            "--log-format",
            request.param,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            assert process.poll() is None, process.communicate()[0]
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_sigterm_during_50_open_streams_ends_them_and_exits_within_2_seconds(
    server: tuple[subprocess.Popen[str], str],
) -> None:
    process, url = server
    started = threading.Barrier(STREAMS + 1, timeout=20)
    bodies: list[bytes] = []
    errors: list[BaseException] = []

    def client() -> None:
        try:
            # A quarter of the written speed: each stream would run for many seconds.
            with httpx.stream(
                "POST",
                f"{url}/teams/research-team/runs",
                data={"message": "hi"},
                headers={"X-Mock-Speed": "0.25"},
                timeout=30,
            ) as response:
                chunks = response.iter_raw()
                body = next(chunks)
                started.wait()
                body += b"".join(chunks)
            bodies.append(body)
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)
            started.abort()

    threads = [threading.Thread(target=client) for _ in range(STREAMS)]
    for thread in threads:
        thread.start()
    started.wait()
    signalled = time.monotonic()
    process.send_signal(signal.SIGTERM)
    output = process.communicate(timeout=10)[0]
    elapsed = time.monotonic() - signalled
    for thread in threads:
        thread.join(timeout=10)

    assert elapsed < 2.0, f"exited {elapsed:.2f}s after SIGTERM"
    assert process.returncode == 0, output
    assert "Traceback" not in output and "ERROR" not in output, output
    assert not errors, errors[:3]
    assert len(bodies) == STREAMS
    for body in bodies:
        assert body.endswith(b"\n\n") and b"TeamRunCompleted" not in body, "cut short, but at a frame boundary"
    if '"level"' in output:
        entries = [json.loads(line) for line in output.splitlines()]
        runs = [e for e in entries if e["logger"] == "mockserver.runs"]
        assert [e["ended"] for e in runs] == ["shutdown"] * STREAMS
        assert all(e["status"] == 200 and e["events"] >= 1 for e in runs)
    else:
        assert output.count("ended=shutdown") == STREAMS


KINDS = ("research-team", "error-stall", "error-slow", "error-drop")
SPEEDS = {"research-team": "0.25", "error-stall": "0", "error-slow": "1", "error-drop": "0.01"}
"""error-stall at speed 0 is holding (a wall-clock stall) by the signal; error-drop has not cut yet."""


def test_sigterm_with_50_open_runs_of_every_kind_exits_at_once_and_no_client_gets_a_500(
    server: tuple[subprocess.Popen[str], str],
) -> None:
    """Normal streams, stalled ones, ones still waiting for their head, and ones about to be cut."""
    process, url = server
    teams = [KINDS[index % len(KINDS)] for index in range(STREAMS)]
    heads = threading.Barrier(sum(team != "error-slow" for team in teams) + 1, timeout=20)
    statuses: dict[str, list[int]] = {team: [] for team in KINDS}
    errors: list[BaseException] = []

    def client(team: str) -> None:
        try:
            with httpx.stream(
                "POST",
                f"{url}/teams/{team}/runs",
                data={"message": "hi"},
                headers={"X-Mock-Speed": SPEEDS[team]},
                timeout=30,
            ) as response:
                chunks = response.iter_raw()
                if team != "error-slow":  # its head comes after 5 s: it is still waiting
                    next(chunks)
                    heads.wait()
                b"".join(chunks)
            statuses[team].append(response.status_code)
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)
            heads.abort()

    threads = [threading.Thread(target=client, args=(team,)) for team in teams]
    for thread in threads:
        thread.start()
    heads.wait()
    time.sleep(0.3)  # the error-slow requests are in and waiting
    signalled = time.monotonic()
    process.send_signal(signal.SIGTERM)
    output = process.communicate(timeout=10)[0]
    elapsed = time.monotonic() - signalled
    for thread in threads:
        thread.join(timeout=10)

    assert elapsed < 2.0, f"exited {elapsed:.2f}s after SIGTERM"
    assert process.returncode == 0, output
    for sign in ("Traceback", "ERROR", "timeout graceful shutdown exceeded", "Cancel ", "CancelledError"):
        assert sign not in output, output
    assert not errors, errors[:3]
    assert {team: set(codes) for team, codes in statuses.items()} == {team: {200} for team in KINDS}
    assert sum(len(codes) for codes in statuses.values()) == STREAMS
