"""The checks every request passes before any route: no smuggling framing, a body that arrives in time.

Content-Length together with Transfer-Encoding is how a request smuggles a second one past a
proxy that reads the other header: RFC 9112 §6.1 says to answer it and close the connection.
uvicorn's h11 parser serves such a request (chunked wins) and then answers the smuggled one,
so the guard refuses it first, with `Connection: close`, which makes uvicorn drop whatever
else the connection had sent. The parser stays h11: httptools (llhttp) refuses the pair
too, but with a bare text 400 from the protocol, and is one more compiled dependency; this
works under either parser and answers JSON.

A request's body must arrive within `read_timeout` seconds of its head (a client that sends
a few bytes a minute would hold its task forever); past that, 408 and the connection closed.
The head's own deadline is the protocol's (`server.py`), as ASGI only starts after it.
"""

from __future__ import annotations

import asyncio
import time

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.http.errors import ApiError, error_response

ARRIVED = "mock.arrived"
"""The scope key of the wall time the request reached the app: a scenario's head time counts from it."""


class RequestGuard:
    def __init__(self, app: ASGIApp, *, read_timeout: float, error_format: str) -> None:
        self.app = app
        self.read_timeout = read_timeout
        self.error_format = error_format

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[ARRIVED] = time.time()
        names = {name for name, _ in scope["headers"]}
        if b"content-length" in names and b"transfer-encoding" in names:
            error = ApiError(
                400,
                "Content-Length and Transfer-Encoding together are refused (RFC 9112 §6.1); send one of them",
                headers={"connection": "close"},
            )
            await error_response(error, self.error_format)(scope, receive, send)
            return
        await self.app(scope, _InTime(receive, self.read_timeout), send)


class _InTime:
    """`receive`, with a deadline on the body's messages; once the body is in, as it was."""

    def __init__(self, receive: Receive, seconds: float) -> None:
        self.receive = receive
        # The request cycle `receive` is bound to: the pipeline's hang-up closes its transport.
        self.__self__ = getattr(receive, "__self__", None)
        self.seconds = seconds
        # The loop's clock, which is anyio's: asking anyio would load its backend at the first
        # request, /health too, not with the first run that needs it.
        self.deadline = asyncio.get_running_loop().time() + seconds
        self.body_done = False

    async def __call__(self) -> Message:
        if self.body_done:
            return await self.receive()
        with anyio.move_on_after(self.deadline - anyio.current_time()) as waiting:
            message = await self.receive()
        if waiting.cancelled_caught:
            self.body_done = True
            detail = f"The request body did not arrive within {self.seconds:g} s (--read-timeout)"
            raise ApiError(408, detail, headers={"connection": "close"})
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.body_done = True
        return message
