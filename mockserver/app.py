"""The Starlette application: routes, middleware, error handlers and the app state."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from mockserver.http import discovery, runs, sessions
from mockserver.http.auth import BearerAuth
from mockserver.http.cors import ServerErrors, cors_middleware
from mockserver.http.errors import ApiError, error_response
from mockserver.scenarios.fakes import SeededFaker
from mockserver.scenarios.loader import load_directory
from mockserver.scenarios.model import ScenarioSet
from mockserver.scenarios.reload import watching
from mockserver.agentos.sessions import SessionStore
from mockserver.settings import Settings
from mockserver.state import AppState


def create_app(settings: Settings, scenarios: ScenarioSet | None = None) -> Starlette:
    """The mock server for `settings`; loads `settings.scenarios` unless a set is given."""
    if scenarios is None:
        scenarios = load_directory(settings.scenarios)
    error_format = settings.error_format

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(exc, error_format)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error_response(ApiError(exc.status_code, exc.detail, headers=exc.headers), error_format)

    async def server_error(request: Request, exc: Exception) -> Response:
        return error_response(ApiError(500, "Internal server error"), error_format)

    routes = [*runs.routes, *discovery.routes, *sessions.routes]
    app = Starlette(
        routes=routes,
        middleware=[
            cors_middleware(settings.cors_origins),
            Middleware(ServerErrors, error_format=error_format),
            Middleware(BearerAuth, key=settings.security_key, error_format=error_format),
        ],
        exception_handlers={ApiError: api_error, HTTPException: http_error, Exception: server_error},
        lifespan=watching,
    )
    app.state.mock = AppState(settings=settings, scenarios=scenarios, faker=SeededFaker(), sessions=SessionStore(settings.max_sessions))
    return app
