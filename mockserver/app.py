"""The Starlette application: routes, middleware, error handlers and the app state."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from mockserver.agentos.errors import Refused
from mockserver.http import agui, chat, control, dashboard, discovery, empty_states, openapi, runs, sessions
from mockserver.http.auth import BearerAuth
from mockserver.http.cors import ServerErrors, cors_middleware
from mockserver.http.errors import ApiError, error_response, refused
from mockserver.http.guard import RequestGuard
from mockserver.http.journaling import Journaling
from mockserver.http.routing import StripTrailingSlash
from mockserver.run.background import BackgroundRuns
from mockserver.scenarios.fakes import SeededFaker
from mockserver.scenarios.loader import load_directories
from mockserver.scenarios.model import ScenarioSet
from mockserver.scenarios.reload import watching
from mockserver.settings import Settings
from mockserver.state import AppState, session_store


def create_app(settings: Settings, scenarios: ScenarioSet | None = None) -> Starlette:
    """The mock server for `settings`; loads `settings.scenarios` unless a set is given."""
    if scenarios is None:
        scenarios = load_directories(settings.scenarios)
    error_format = settings.error_format

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(exc, error_format)

    async def refusal(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        return error_response(refused(exc), error_format)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error_response(ApiError(exc.status_code, exc.detail, headers=exc.headers), error_format)

    async def server_error(request: Request, exc: Exception) -> Response:
        return error_response(ApiError(500, "Internal server error"), error_format)

    routes = [
        *runs.routes,
        *discovery.routes,
        *sessions.routes,
        *control.routes,
        *agui.routes,
        *chat.routes,
        *empty_states.routes,
        *openapi.routes,
        *dashboard.routes,
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(RequestGuard, read_timeout=settings.read_timeout, error_format=error_format),
            Middleware(StripTrailingSlash),
            cors_middleware(settings.cors_origins),
            Middleware(Journaling, error_format=error_format),
            Middleware(ServerErrors, error_format=error_format),
            Middleware(
                BearerAuth, key=settings.security_key, error_format=error_format, control_key=settings.control_key
            ),
        ],
        exception_handlers={ApiError: api_error, Refused: refusal, HTTPException: http_error, Exception: server_error},
        lifespan=watching,
    )
    app.state.mock = AppState(
        settings=settings,
        scenarios=scenarios,
        faker=SeededFaker(),
        sessions=session_store(settings),
        background_runs=BackgroundRuns(settings.max_background_runs),
    )
    return app
