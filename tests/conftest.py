"""Shared fixtures: a real uvicorn server on a free loopback port, and the captures."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.types import ASGIApp

from mockserver.app import create_app
from mockserver.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "scenarios"
TEST_SCENARIOS = Path(__file__).resolve().parent / "scenarios"


CAPTURES = Path(__file__).resolve().parent / "captures" / "agentos-3.1.10"
EXTRA_CAPTURES = CAPTURES.with_name("agentos-3.1.10-extra")
"""Exchanges recorded from a real AgentOS 3.1.10 (see `captures/README.md`), kept in the repository."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve_app(app: ASGIApp, port: int | None = None) -> Iterator[tuple[str, uvicorn.Server]]:
    """Serve `app` with uvicorn in a thread on `port` (a free loopback one by default); yields (URL, server)."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}", server
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def run_server(settings: Settings) -> Iterator[str]:
    """Serve `settings` (the app as `mockserver serve` builds it); yields the base URL."""
    with serve_app(create_app(settings)) as (url, _):
        yield url


@pytest.fixture(scope="session")
def shipped_url() -> Iterator[str]:
    """The shipped scenarios at speed 0 (no delays)."""
    with run_server(Settings(scenarios=SHIPPED, speed=0)) as url:
        yield url


@pytest.fixture(scope="session")
def test_url() -> Iterator[str]:
    """The test scenarios (`tests/scenarios`) at speed 0."""
    with run_server(Settings(scenarios=TEST_SCENARIOS, speed=0)) as url:
        yield url


def parse_sse(body: bytes) -> list[tuple[str, dict[str, Any]]]:
    """(event line, data JSON) of each frame; asserts AgentOS's exact framing on the way."""
    text = body.decode("utf-8")
    assert text.endswith("\n\n"), "every frame ends with a blank line"
    frames = []
    for block in text[:-2].split("\n\n"):
        lines = block.split("\n")
        assert len(lines) == 2 and lines[0].startswith("event: ") and lines[1].startswith("data: "), block[:200]
        frames.append((lines[0][len("event: ") :], json.loads(lines[1][len("data: ") :])))
    return frames


def capture_frames(name: str) -> list[tuple[str, dict[str, Any]]]:
    return parse_sse((CAPTURES / f"{name}.body").read_bytes())


def capture_json(name: str) -> Any:
    return json.loads((CAPTURES / f"{name}.body").read_bytes())
