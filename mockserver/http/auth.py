"""Bearer-token auth, on when a security key is set, as AgentOS's `OS_SECURITY_KEY` turns it on.

`/`, `/health`, `/info`, the API docs and CORS preflights stay open, as on AgentOS; every other
route needs `Authorization: Bearer KEY` (the scheme in any case; like AgentOS, a bare `KEY` is
accepted too). The control routes under `/__mock/` take `--control-key` instead when one is given.
"""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.http.errors import ApiError, error_response

OPEN_PATHS = frozenset({"/", "/health", "/info", "/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"})
OPEN_PREFIX = "/__mock/ui"
"""The dashboard's static files: they hold no data, and a browser cannot send a key to load a page."""
CONTROL_PREFIX = "/__mock/"
"""The mock's own control routes: they take `control_key` when one is set, else the same key."""


def check_bearer(header: str | None, key: str) -> None:
    """AgentOS's rule: strip a `Bearer ` prefix in any case; a header without one is the token."""
    if not header or not header.strip():
        raise ApiError(401, "Authorization header required")
    token = header.strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    if not hmac.compare_digest(token.encode(), key.encode()):
        raise ApiError(401, "Invalid authentication token")


class BearerAuth:
    def __init__(self, app: ASGIApp, key: str | None, error_format: str, control_key: str | None = None) -> None:
        self.app = app
        self.key = key
        self.control_key = control_key or key
        self.error_format = error_format

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = self.control_key if scope.get("path", "").startswith(CONTROL_PREFIX) else self.key
        if key and scope["type"] == "http" and not _is_open(scope):
            # The first of repeated headers, as Starlette's `Headers.get` (and so AgentOS) reads it.
            raw = next((value for name, value in scope["headers"] if name == b"authorization"), None)
            try:
                check_bearer(raw.decode("latin-1") if raw is not None else None, key)
            except ApiError as error:
                await error_response(error, self.error_format)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _is_open(scope: Scope) -> bool:
    path = scope["path"]
    if path.rstrip("/") in OPEN_PATHS or path in OPEN_PATHS:
        return True
    if scope["method"] == "GET" and (path == OPEN_PREFIX or path.startswith(OPEN_PREFIX + "/")):
        return True
    headers = dict(scope["headers"])
    return scope["method"] == "OPTIONS" and b"access-control-request-method" in headers
