"""Helpers for tests that act while a stream runs: a slow team, a frame-by-frame reader, a server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from starlette.types import ASGIApp

from tests import conftest

SLOW_TEAM = """\
version: 1
team:
  id: slow-team
  name: Slow Team
  model: {id: fake-model-1, provider: Fake}
  members:
    - id: helper
      name: Helper
      role: Helps, slowly
scenarios:
  - name: member
    match: member
    gap: 10ms
    pace: 20 words/s
    events:
      - delegate: helper
        task: "Help with: {{ message }}"
        events:
          - tool: lookup
            args: {topic: "{{ message }}"}
            result: a fact
          - text: m0 m1 m2 m3 m4 m5 m6 m7 m8 m9 m10 m11 m12 m13 m14 m15 m16 m17 m18 m19
      - text: team done
  - name: slow
    gap: 10ms
    pace: 20 words/s
    events:
      - text: w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19
          w20 w21 w22 w23 w24 w25 w26 w27 w28 w29
"""


def write_slow_team(directory: Path) -> Path:
    (directory / "slow-team.yaml").write_text(SLOW_TEAM)
    return directory


class StreamReader:
    """Reads an SSE response frame by frame in a thread, so a test can act mid-stream."""

    def __init__(self, url: str, data: dict[str, str], headers: dict[str, str] | None = None) -> None:
        self.frames: list[tuple[str, dict[str, Any]]] = []
        self.changed = threading.Condition()
        self.done = False
        self.status: int | None = None
        self.thread = threading.Thread(target=self._read, args=(url, data, headers or {}), daemon=True)
        self.thread.start()

    def _read(self, url: str, data: dict[str, str], headers: dict[str, str]) -> None:
        try:
            with httpx.stream("POST", url, data=data, headers=headers, timeout=10) as response:
                self.status = response.status_code
                event = ""
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        event = line[len("event: ") :]
                    elif line.startswith("data: "):
                        with self.changed:
                            self.frames.append((event, json.loads(line[len("data: ") :])))
                            self.changed.notify_all()
        finally:
            with self.changed:
                self.done = True
                self.changed.notify_all()

    def wait_for(self, predicate: Any, timeout: float = 5.0) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: predicate(self.frames) or self.done, timeout), "stream stalled"

    def finish(self, timeout: float = 5.0) -> list[tuple[str, dict[str, Any]]]:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "stream did not end"
        return self.frames


def count(event: str) -> Any:
    return lambda frames: sum(1 for name, _ in frames if name == event)


@contextmanager
def reading(url: str, data: dict[str, str], headers: dict[str, str] | None = None) -> Iterator[StreamReader]:
    reader = StreamReader(url, data, headers)
    try:
        yield reader
    finally:
        reader.thread.join(10)


@contextmanager
def serve_app(app: ASGIApp) -> Iterator[str]:
    """Serve an app built by the test (so it can reach `app.state`) on a free loopback port."""
    with conftest.serve_app(app) as (url, _):
        yield url
