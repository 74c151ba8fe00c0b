"""Server-Sent Events on the wire, as AgentOS writes them: knows frames, not scenarios.

`EventStream` is an ASGI response that sends one HTTP chunk per frame the moment the frame
is due, and stops its producer as soon as the client goes away.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import anyio
from starlette.types import Receive, Scope, Send

MEDIA_TYPE = "text/event-stream; charset=utf-8"
STREAM_HEADERS: dict[str, str] = {"cache-control": "no-cache", "x-accel-buffering": "no"}


# Line breaks to Python's str.splitlines() that JSON leaves raw: agno's client splits the stream
# with it, so one of these inside a string would cut the `data:` line and lose the frame (the
# real server has that bug). Escaped, they parse back to the same text.
_SPLITLINES_ESCAPES = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def encode_json(data: Any) -> str:
    """Compact JSON with raw UTF-8, as FastAPI and agno write it."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).translate(_SPLITLINES_ESCAPES)


def encode_frame(event: str, data: Mapping[str, Any]) -> bytes:
    """`event: NAME\\ndata: JSON\\n\\n`; JSON never holds a raw newline, so one data line."""
    return f"event: {event}\ndata: {encode_json(data)}\n\n".encode()


def encode_comment(text: str) -> bytes:
    return f": {text}\n\n".encode()


class EventStream:
    """Stream `chunks` as a `text/event-stream` response, one ASGI send per chunk.

    Runs the producer and a disconnect listener side by side (as Starlette's
    StreamingResponse does for ASGI < 2.4) so a client that leaves mid-delay ends the
    producer at once instead of at its next send.
    """

    def __init__(self, chunks: AsyncIterator[bytes], headers: Mapping[str, str] | None = None) -> None:
        self.chunks = chunks
        self.headers = {**STREAM_HEADERS, **(headers or {})}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_headers = [(b"content-type", MEDIA_TYPE.encode())]
        raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.headers.items()]
        async with anyio.create_task_group() as group:

            async def stream() -> None:
                try:
                    await send({"type": "http.response.start", "status": 200, "headers": raw_headers})
                    async for chunk in self.chunks:
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                finally:
                    await _close(self.chunks)
                group.cancel_scope.cancel()

            async def listen() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                group.cancel_scope.cancel()

            group.start_soon(stream)
            group.start_soon(listen)


async def _close(chunks: AsyncIterator[bytes]) -> None:
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        with anyio.CancelScope(shield=True):
            await aclose()
