"""Runs the app under uvicorn with our log format, and a shutdown that ends open streams at once.

On SIGTERM uvicorn stops accepting connections, then waits for running responses; an SSE
stream would keep it waiting until its last frame. `Server.shutdown` first sets the app's
`stopping`, which ends every open stream cleanly (the frames sent so far, then the end of the
response), so the process exits in a fraction of a second. The grace timeout is only a net.
"""

from __future__ import annotations

import signal
import socket
from types import FrameType
from typing import Any

import uvicorn

from mockserver.logs import logging_config
from mockserver.settings import Settings
from mockserver.run.shutdown import Stopping

GRACE_SECONDS = 1.0


class Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, stopping: Stopping) -> None:
        super().__init__(config)
        self.stopping = stopping

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.stopping.set()
        await super().shutdown(sockets)


def _exit(signum: int, frame: FrameType | None) -> None:
    """After its graceful shutdown uvicorn raises the signal again: exit 0, not "killed"."""
    raise SystemExit(0)


def run(app: Any, settings: Settings) -> None:
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=logging_config(settings.log_format),
        access_log=settings.access_log,
        timeout_graceful_shutdown=GRACE_SECONDS,
        lifespan="on",
    )
    server = Server(config, app.state.mock.stopping)
    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGINT, _exit)
    server.run()
