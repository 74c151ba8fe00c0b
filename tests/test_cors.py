"""CORS on every answer (preflights, streams, errors, 401s, 500s) and auth on the routes around a run."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mockserver.app import create_app
from mockserver.settings import Settings
from tests.conftest import CAPTURES, SHIPPED, run_server
from tests.slow_team import serve_app

ORIGIN = "http://localhost:3000"
PREFLIGHT = {
    "Origin": ORIGIN,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization",
}
KEY = "s3cret"


def captured_head(name: str) -> dict[str, str]:
    """The response headers of a capture, lower-cased, without date/server/content-length."""
    text = (CAPTURES / f"{name}.txt").read_text()
    head = text.split("=== RESPONSE HEAD (verbatim) ===\n", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    pairs = (line.split(": ", 1) for line in head)
    return {
        k.lower(): v for k, v in pairs if k.lower() not in ("date", "server", "content-length", "transfer-encoding")
    }


def cors_of(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-") or k == "vary"}


@pytest.fixture(scope="module")
def url(shipped_url: str) -> str:
    return shipped_url


@pytest.fixture(scope="module")
def locked() -> Iterator[str]:
    with run_server(Settings(scenarios=SHIPPED, speed=0, security_key=KEY)) as url:
        yield url


@pytest.mark.parametrize(
    "capture, requested",
    [("k1_cors_preflight", "authorization"), ("k2_cors_preflight_ctype", "authorization,content-type")],
)
def test_preflight_answers_as_agentos(url: str, capture: str, requested: str) -> None:
    response = httpx.options(
        f"{url}/teams/research-team/runs", headers={**PREFLIGHT, "Access-Control-Request-Headers": requested}
    )
    assert (response.status_code, response.text) == (200, "OK")
    expected = {k: v for k, v in captured_head(capture).items() if k != "content-type"}
    assert cors_of(response) == expected


@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://127.0.0.1:8080", "http://localhost"])
def test_any_loopback_origin_is_allowed_by_default(url: str, origin: str) -> None:
    response = httpx.options(
        f"{url}/sessions", headers={**PREFLIGHT, "Origin": origin, "Access-Control-Request-Method": "GET"}
    )
    assert response.status_code == 200 and response.headers["access-control-allow-origin"] == origin


def test_other_origins_are_refused_by_default(url: str) -> None:
    response = httpx.options(f"{url}/teams", headers={**PREFLIGHT, "Origin": "http://evil.example"})
    assert (response.status_code, response.text) == (400, "Disallowed CORS origin")
    simple = httpx.get(f"{url}/teams", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in simple.headers


def test_cors_origins_sets_the_exact_list() -> None:
    with run_server(Settings(scenarios=SHIPPED, cors_origins=(ORIGIN,))) as url:
        vite = httpx.options(
            f"{url}/teams/research-team/runs", headers={**PREFLIGHT, "Origin": "http://localhost:5173"}
        )
        allowed = httpx.options(f"{url}/teams/research-team/runs", headers=PREFLIGHT)
    assert (vite.status_code, vite.text) == (400, "Disallowed CORS origin")
    assert cors_of(vite) == {
        k: v for k, v in captured_head("k3_cors_preflight_other_origin").items() if k != "content-type"
    }
    assert allowed.headers["access-control-allow-origin"] == ORIGIN


def test_streaming_and_error_responses_keep_their_cors_headers(url: str) -> None:
    stream = httpx.post(f"{url}/teams/research-team/runs", data={"message": "cors"}, headers={"Origin": ORIGIN})
    assert stream.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert cors_of(stream) == {k: v for k, v in captured_head("k4_cors_actual_stream").items() if k != "content-type"}
    for response in (
        httpx.post(f"{url}/teams/no-such-team/runs", data={"message": "x"}, headers={"Origin": ORIGIN}),
        httpx.post(f"{url}/teams/research-team/runs", data={}, headers={"Origin": ORIGIN}),
        httpx.get(f"{url}/sessions/nope/runs", headers={"Origin": ORIGIN}),
    ):
        assert response.status_code in (404, 422)
        assert cors_of(response) == {
            k: v for k, v in captured_head("k5_cors_actual_error").items() if k != "content-type"
        }


def test_without_an_origin_only_vary_is_added(url: str) -> None:
    assert cors_of(httpx.get(f"{url}/health")) == {"vary": "Origin"}


def _app_with_a_crashing_route() -> Starlette:
    async def boom(request: Request) -> Response:
        raise RuntimeError("boom")

    app = create_app(Settings(scenarios=SHIPPED))
    app.router.routes.append(Route("/boom", boom))
    return app


def test_a_crash_is_a_500_a_browser_can_read_and_the_server_keeps_serving() -> None:
    with serve_app(_app_with_a_crashing_route()) as url:
        crash = httpx.get(f"{url}/boom", headers={"Origin": ORIGIN})
        after = httpx.get(f"{url}/health")
    assert crash.status_code == 500
    assert crash.json() == {"detail": "Internal server error", "error_code": "INTERNAL_SERVER_ERROR"}
    assert crash.headers["access-control-allow-origin"] == ORIGIN
    assert after.status_code == 200


def test_auth_guards_every_route_but_health_and_preflights(locked: str) -> None:
    assert httpx.get(f"{locked}/health").status_code == 200
    assert httpx.options(f"{locked}/teams/research-team/runs", headers=PREFLIGHT).status_code == 200
    calls = [
        ("GET", "/teams"),
        ("GET", "/teams/research-team"),
        ("GET", "/agents"),
        ("GET", "/config"),
        ("GET", "/sessions"),
        ("GET", "/sessions/x/runs"),
        ("DELETE", "/sessions/x"),
        ("POST", "/teams/research-team/runs/x/cancel"),
    ]
    with httpx.Client() as http:
        for method, path in calls:
            refused = http.request(method, f"{locked}{path}")
            assert refused.status_code == 401 and refused.json()["detail"] == "Authorization header required", path
            wrong = http.request(method, f"{locked}{path}", headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401 and wrong.json()["detail"] == "Invalid authentication token", path
            allowed = http.request(method, f"{locked}{path}", headers={"Authorization": f"bearer {KEY}"})
            assert allowed.status_code in (200, 204, 404), path
            assert allowed.status_code != 404 or path == "/sessions/x/runs"


def test_a_401_carries_cors_headers_so_the_page_can_read_it(locked: str) -> None:
    refused = httpx.post(f"{locked}/teams/research-team/runs", data={"message": "x"}, headers={"Origin": ORIGIN})
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == ORIGIN
    assert refused.headers["access-control-allow-credentials"] == "true"


@pytest.mark.parametrize(
    "capture, path",
    [
        ("h10_auth_teams", "/teams"),
        ("h12_auth_config", "/config"),
        ("h15_auth_cancel_none", "/teams/research-team/runs/x/cancel"),
    ],
)
def test_401_bytes_in_agentos_format(capture: str, path: str) -> None:
    with run_server(Settings(scenarios=SHIPPED, security_key=KEY, error_format="agentos")) as url:
        method = "POST" if path.endswith("cancel") else "GET"
        response = httpx.request(method, f"{url}{path}")
    assert response.content == (CAPTURES / f"{capture}.body").read_bytes()


def test_cors_origins_and_max_sessions_come_from_flags_or_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from mockserver.cli import build_parser, settings_from

    default = settings_from(build_parser().parse_args(["serve"]))
    assert default.cors_origins is None and default.max_sessions == 1000
    flagged = settings_from(
        build_parser().parse_args(
            ["serve", "--cors-origins", "http://localhost:3000, https://app.example.com/", "--max-sessions", "5"]
        )
    )
    assert flagged.cors_origins == ("http://localhost:3000", "https://app.example.com") and flagged.max_sessions == 5
    monkeypatch.setenv("MOCKSERVER_CORS_ORIGINS", "*")
    assert settings_from(build_parser().parse_args(["serve"])).cors_origins == ("*",)
    for bad in (["--cors-origins", "localhost:3000"], ["--max-sessions", "0"]):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["serve", *bad])
    assert "expected origins like http://localhost:3000" in capsys.readouterr().err
