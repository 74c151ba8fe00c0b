"""What a recording is made of: the runs that passed, each with its request, head time and frames."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RecordedFrame:
    """One frame, `at` seconds after the request went upstream."""

    at: float
    event: str
    data: dict[str, Any]


@dataclass(frozen=True)
class FileInfo:
    """An uploaded file as the recording keeps it: its metadata, never its bytes."""

    filename: str | None
    content_type: str | None
    size: int


@dataclass
class RecordedRun:
    team_id: str
    message: str
    session_id: str | None = None
    user_id: str | None = None
    files: tuple[FileInfo, ...] = ()
    head: float = 0.0
    """Seconds from the request to the response head."""
    frames: list[RecordedFrame] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.frames[-1].at if self.frames else self.head

    @property
    def ended(self) -> bool:
        """The run reached its last event (not cut by Ctrl-C or the client leaving)."""
        return bool(self.frames) and self.frames[-1].event in ("TeamRunCompleted", "TeamRunError", "TeamRunCancelled")

    @property
    def replay_session(self) -> str | None:
        """The session the run belonged to: the one asked for, else the one the server opened."""
        if self.session_id:
            return self.session_id
        first = self.frames[0].data if self.frames else {}
        value = first.get("session_id")
        return value if isinstance(value, str) else None


class SseReader:
    """Frames out of a byte stream cut anywhere: feed chunks, get the frames they completed."""

    def __init__(self) -> None:
        self.buffer = b""

    def feed(self, chunk: bytes) -> list[tuple[str, dict[str, Any]]]:
        self.buffer += chunk
        frames: list[tuple[str, dict[str, Any]]] = []
        while True:
            end = self._boundary()
            if end is None:
                return frames
            block, self.buffer = self.buffer[: end[0]], self.buffer[end[1] :]
            frame = parse_block(block.decode("utf-8", errors="replace"))
            if frame is not None:
                frames.append(frame)

    def _boundary(self) -> tuple[int, int] | None:
        for separator in (b"\n\n", b"\r\n\r\n"):
            index = self.buffer.find(separator)
            if index >= 0:
                return index, index + len(separator)
        return None


def parse_block(block: str) -> tuple[str, dict[str, Any]] | None:
    """(event, data) of one SSE block; None for a comment or a block without JSON data."""
    event = ""
    data_lines = []
    for line in block.splitlines():
        if line.startswith("event:"):
            event = line[len("event:") :].strip()
        elif line.startswith("data:"):
            data_lines.append(line[len("data:") :].lstrip(" "))
    if not data_lines:
        return None
    try:  # json, not jsontext: a recording keeps what the real server wrote; the writer's load check
        data = json.loads("\n".join(data_lines))  # reports what a scenario cannot hold (a NaN, say)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    return event or str(data.get("event", "")), data
