"""Runs the app under uvicorn with our log format, and a shutdown that ends open streams at once.

On SIGTERM uvicorn stops accepting connections, then waits for running responses; an SSE
stream would keep it waiting until its last frame. `Server.shutdown` first sets the app's
`stopping`, which ends every open stream cleanly (the frames sent so far, then the end of the
response), so the process exits in a fraction of a second. The grace timeout is only a net.

A long message or an upload passes through the server as blocks of a megabyte; glibc would
keep the memory of such a block once it is freed (`return_large_blocks` says why and stops it),
so that one 1 MB request left 3 MB of RSS behind.

uvicorn times out only an idle connection between two requests: a new connection that sends
nothing, or a head sent a byte at a time (slowloris), stays forever, and 300 of them lock
every client out of a 256-fd server. `guarded_h11` adds both deadlines to uvicorn's h11
protocol; the body's deadline is the app's (`http/guard.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from http import HTTPStatus
from types import FrameType
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from mockserver.logs import logging_config
from mockserver.run.shutdown import Stopping
from mockserver.settings import Settings
from mockserver.wire.errors import error_json

GRACE_SECONDS = 1
LARGE_BLOCK = 128 * 1024
"""glibc's default size from which a block gets its own memory map, given back when it is freed."""
_M_MMAP_THRESHOLD = -3


class Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, stopping: Stopping) -> None:
        super().__init__(config)
        self.stopping = stopping

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.stopping.set()
        await super().shutdown(sockets)


class GuardedH11(H11Protocol):
    """uvicorn's h11 protocol, with a deadline on a new connection's first byte and on each head."""

    read_timeout = 30.0
    error_format = "documented"
    _head_timer: asyncio.TimerHandle | None = None
    _timing_head = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # Nothing sent yet: as idle as a kept-alive connection, so the same timeout.
        self._set_timer(self.timeout_keep_alive, self._close)

    def connection_lost(self, exc: Exception | None) -> None:
        self._set_timer(None)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        awaiting_head = self.cycle is None or self.cycle.response_complete
        if not awaiting_head:
            self._set_timer(None)
        elif not self._timing_head:  # the head's first bytes: its deadline starts now, not at each byte
            self._set_timer(self.read_timeout, self._head_late)
            self._timing_head = True

    def on_response_complete(self) -> None:
        self._set_timer(None)  # uvicorn's keep-alive timer takes over until the next byte
        super().on_response_complete()

    def send_400_response(self, msg: str) -> None:
        """Bytes h11 cannot read as HTTP: the documented JSON 400 (uvicorn writes text/plain, which
        stays on `--error-format agentos`, as AgentOS runs on uvicorn too), then the connection closed.

        When they come after a request whose answer has begun (pipelined garbage), uvicorn wrote
        its 400 into that answer and the app's next write raised; the answer is finished instead,
        and the connection closed after it. A request still unanswered is told its client left."""
        cycle = self.cycle
        if cycle is not None and cycle.response_started and not cycle.response_complete:
            cycle.keep_alive = False
            return
        if self.error_format == "agentos":
            super().send_400_response(msg)
        else:
            self._answer_and_close(HTTPStatus.BAD_REQUEST, msg)
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True
            cycle.message_event.set()

    def _set_timer(self, seconds: float | None, callback: Any = None) -> None:
        self._timing_head = False
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = None if seconds is None else self.loop.call_later(seconds, callback)

    def _close(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def _head_late(self) -> None:
        """408 when the head is still incomplete (h11 has no event to send before one), else close."""
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self.conn.our_state is h11.IDLE and self.conn.their_state is h11.IDLE:
            detail = f"The request head did not arrive within {self.read_timeout:g} s (--read-timeout)"
            self._answer_and_close(HTTPStatus.REQUEST_TIMEOUT, detail)
        else:
            self.transport.close()

    def _answer_and_close(self, status: HTTPStatus, detail: str) -> None:
        """The documented JSON error written as bytes, past h11 (which has no request to answer,
        or has given up on the connection's bytes), then the connection closed."""
        body = bytes(error_json(int(status), detail, self.error_format).body)
        head = f"HTTP/1.1 {status.value} {status.phrase}\r\ncontent-type: application/json\r\n"
        head += f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        self.transport.write(head.encode("ascii") + body)
        self.transport.close()


def guarded_h11(settings: Settings) -> type[GuardedH11]:
    attributes = {"read_timeout": settings.read_timeout, "error_format": settings.error_format}
    return type("GuardedH11", (GuardedH11,), attributes)


def _exit(signum: int, frame: FrameType | None) -> None:
    """After its graceful shutdown uvicorn raises the signal again: exit 0, not "killed"."""
    raise SystemExit(0)


def return_large_blocks() -> None:
    """Keep glibc's mmap threshold at `LARGE_BLOCK`, so a large block goes back to the OS when freed.

    glibc raises the threshold to the size of each mapped block that is freed, after which
    blocks of that size come from the heap, which keeps their pages once they are freed: a 1 MB
    message then left 3.3 MB of RSS behind instead of 1 MB (bench/hardening_memory.md). Setting
    the threshold turns that adjustment off. Blocks this large are rare on a run's path (frames
    are small), so the extra system calls do not show in `bench/inprocess.py`. Other C libraries
    are left alone, as is a threshold the user set in glibc's environment."""
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return
    if "mmap_threshold" in os.environ.get("GLIBC_TUNABLES", ""):
        return
    import ctypes  # here, not at the top: only this call needs it

    with contextlib.suppress(OSError, AttributeError):  # a C library without mallopt
        ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, LARGE_BLOCK)


def run(app: Any, settings: Settings) -> None:
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=logging_config(settings.log_format),
        access_log=settings.access_log,
        timeout_graceful_shutdown=GRACE_SECONDS,
        timeout_keep_alive=settings.timeout_keep_alive,  # type: ignore[arg-type]
        http=guarded_h11(settings),
        lifespan="on",
    )
    server = Server(config, app.state.mock.stopping)
    return_large_blocks()
    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGINT, _exit)
    server.run()
