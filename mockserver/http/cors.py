"""CORS, so a UI served from another origin (a dev server on localhost) can call the mock.

AgentOS uses Starlette's `CORSMiddleware` with credentials, every method and header, and
`Access-Control-Expose-Headers: *`; its default origin list is `http://localhost:3000` only.
The mock allows any loopback origin by default (Vite, Next.js, Storybook all pick other ports)
and takes an explicit list from `--cors-origins`.

The middleware must sit outside everything that can answer: the bearer-auth 401s, error
handlers and streams. Starlette puts its own 500 handler outside all user middleware, so
`ServerErrors` renders unexpected exceptions inside the CORS layer instead: a browser can
then read the 500's body rather than reporting an opaque CORS failure.
"""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.http.errors import ApiError, error_response

LOCAL_ORIGINS = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?"
METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY")
"""What AgentOS's `allow_methods=["*"]` expands to (k1); spelled out so it does not vary with Starlette."""


def cors_middleware(origins: tuple[str, ...] | None) -> Middleware:
    """`origins` None: any loopback origin; otherwise exactly these (`*` for any)."""
    return Middleware(
        CORSMiddleware,
        allow_origins=list(origins or ()),
        allow_origin_regex=LOCAL_ORIGINS if origins is None else None,
        allow_credentials=True,
        allow_methods=METHODS,
        allow_headers=["*"],
        expose_headers=["*"],
    )


class ServerErrors:
    """Answer an unhandled exception with the documented 500 body, then re-raise it.

    Re-raising lets uvicorn log the traceback; Starlette's outer handler sees that the
    response has started and sends nothing more.
    """

    def __init__(self, app: ASGIApp, error_format: str) -> None:
        self.app = app
        self.error_format = error_format

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            if not started:
                await error_response(ApiError(500, "Internal server error"), self.error_format)(scope, receive, send)
            raise
