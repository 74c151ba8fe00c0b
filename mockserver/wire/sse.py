"""Server-Sent Events on the wire, as AgentOS writes them: knows frames, not scenarios."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from mockserver.agentos.fold import RunFold
from mockserver.run.plan import Frame, Plan

MEDIA_TYPE = "text/event-stream; charset=utf-8"
STREAM_HEADERS: dict[str, str] = {"cache-control": "no-cache", "x-accel-buffering": "no"}
KEEP_ALIVE = b": keep-alive\n\n"


# Line breaks to Python's str.splitlines() that JSON leaves raw: agno's client splits the stream
# with it, so one of these inside a string would cut the `data:` line and lose the frame (the
# real server has that bug). Escaped, they parse back to the same text.
_SPLITLINES_ESCAPES = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}


_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
"""One encoder for every frame: `json.dumps` with options builds a new one per call."""


def encode_json(data: Any) -> str:
    """Compact JSON with raw UTF-8, as FastAPI and agno write it."""
    text = _JSON.encode(data)
    return _escape_splitlines(text)


def _escape_splitlines(text: str) -> str:
    # `translate` walks the text in Python-level steps; most frames have none of the three, and
    # `in` finds that at C speed (faster than a regex over text with non-ASCII characters).
    if "\x85" in text or "\u2028" in text or "\u2029" in text:
        return text.translate(_SPLITLINES_ESCAPES)
    return text


def encode_frame(event: str, data: Mapping[str, Any]) -> bytes:
    """`event: NAME\\ndata: JSON\\n\\n`; JSON never holds a raw newline, so one data line."""
    return f"event: {event}\ndata: {encode_json(data)}\n\n".encode()


def encoded(plan: Plan) -> Plan:
    """`plan` with each frame's bytes made once, for a plan many runs will play."""
    frames = tuple(replace(f, encoded=encode_frame(f.event, f.data)) for f in plan.frames)
    return replace(plan, frames=frames)


class AgentOSEvents:
    """AgentOS's own stream: one `event:`/`data:` pair a frame, the head before the first."""

    streaming = True
    media_type = MEDIA_TYPE
    headers = STREAM_HEADERS

    def frames(self, frames: Sequence[Frame]) -> bytes:
        if all(frame.encoded is not None for frame in frames):
            return b"".join([frame.encoded for frame in frames])  # type: ignore[misc]
        if len(frames) == 1:
            return encode_frame(frames[0].event, frames[0].data)
        # One text for the batch, checked for the three escapes once (event names are ASCII).
        encode = _JSON.encode
        text = "".join([f"event: {frame.event}\ndata: {encode(frame.data)}\n\n" for frame in frames])
        return _escape_splitlines(text).encode()

    def keep_alive(self) -> bytes:
        return KEEP_ALIVE

    def end(self, plan: Plan, facts: RunFold) -> bytes:
        return b""


class IndexedAgentOSEvents(AgentOSEvents):
    """A background run's stream: each frame's data ends with its `event_index` (0, 1, ...)."""

    def __init__(self) -> None:
        self.count = 0

    def frames(self, frames: Sequence[Frame]) -> bytes:
        out = []
        for frame in frames:
            out.append(encode_frame(frame.event, {**frame.data, "event_index": self.count}))
            self.count += 1
        return b"".join(out)
