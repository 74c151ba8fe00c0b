"""Routing as AgentOS's FastAPI app routes: no automatic HEAD, and trailing slashes stripped.

Starlette adds HEAD to every GET route (so `HEAD /health` is 200 and a 405 says
`allow: GET, HEAD`); FastAPI does not, and health checks that probe with HEAD get a 405 from
AgentOS. AgentOS's `TrailingSlashMiddleware` strips a trailing slash before routing, so
`GET /teams/` is `GET /teams` rather than a 307 to an absolute URL built from the Host header
(which breaks behind a proxy).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send


def route(path: str, endpoint: Callable[..., Any], methods: list[str]) -> Route:
    """A Route that answers exactly `methods`."""
    made = Route(path, endpoint, methods=methods)
    assert made.methods is not None
    if "HEAD" not in methods:
        made.methods.discard("HEAD")
    return made


class StripTrailingSlash:
    """`/teams/` is routed as `/teams`; `/` stays `/`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path != "/" and path.endswith("/") and path.rstrip("/"):
                stripped = path.rstrip("/")
                scope = {**scope, "path": stripped, "raw_path": stripped.encode("utf-8")}
        await self.app(scope, receive, send)
