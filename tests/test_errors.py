"""Every error of the run endpoint, in the documented shape and in AgentOS 3.1.10's exact bytes."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mockserver.settings import Settings
from tests.conftest import CAPTURES, TEST_SCENARIOS, run_server

KEY = "s3cret"


@pytest.fixture(scope="module")
def agentos_url() -> Iterator[str]:
    with run_server(Settings(scenarios=TEST_SCENARIOS, speed=0, error_format="agentos")) as url:
        yield url


@pytest.fixture(scope="module")
def secured_urls() -> Iterator[tuple[str, str]]:
    with (
        run_server(Settings(scenarios=TEST_SCENARIOS, speed=0, security_key=KEY)) as documented,
        run_server(Settings(scenarios=TEST_SCENARIOS, speed=0, security_key=KEY, error_format="agentos")) as agentos,
    ):
        yield documented, agentos


def captured(name: str) -> bytes:
    return (CAPTURES / f"{name}.body").read_bytes()


CASES = [
    # capture, team, how the request is sent, documented status, detail, error_code
    (
        "f1_missing_message",
        "research-team",
        {"data": {"stream": "true"}},
        422,
        "message: Field required",
        "VALIDATION_ERROR",
    ),
    (
        "f1c_empty_message",
        "research-team",
        {"files": {"message": (None, "")}},
        422,
        "message: Field required",
        "VALIDATION_ERROR",
    ),
    ("f3_json_body", "research-team", {"json": {"message": "hi"}}, 422, "message: Field required", "VALIDATION_ERROR"),
    ("f4_no_body", "research-team", {}, 422, "message: Field required", "VALIDATION_ERROR"),
    (
        "c3_stream_garbage",
        "research-team",
        {"data": {"message": "hi", "stream": "maybe"}},
        422,
        "stream: Input should be a valid boolean, unable to interpret input",
        "VALIDATION_ERROR",
    ),
    ("g1_unknown_team", "no-such-team", {"data": {"message": "hi"}}, 404, "Team not found", "NOT_FOUND"),
    (
        "g2_unknown_team_nonstream",
        "no-such-team",
        {"data": {"message": "hi", "stream": "false"}},
        404,
        "Team not found",
        "NOT_FOUND",
    ),
    (
        "g3_unknown_team_no_message",
        "no-such-team",
        {"data": {"stream": "true"}},
        422,
        "message: Field required",
        "VALIDATION_ERROR",
    ),
]


@pytest.mark.parametrize(("capture", "team", "send", "status", "detail", "code"), CASES, ids=[c[0] for c in CASES])
def test_errors_in_both_formats(
    test_url: str, agentos_url: str, capture: str, team: str, send: dict, status: int, detail: str, code: str
) -> None:
    documented = httpx.post(f"{test_url}/teams/{team}/runs", **send)
    assert documented.status_code == status
    assert documented.headers["content-type"] == "application/json"
    assert documented.json() == {"detail": detail, "error_code": code}
    real = httpx.post(f"{agentos_url}/teams/{team}/runs", **send)
    assert real.status_code == status
    assert real.content == captured(capture)


AUTH_CASES = [
    ("h1_auth_none", {}, 401),
    ("h2_auth_wrong", {"Authorization": "Bearer wrong"}, 401),
    ("h4_auth_basic", {"Authorization": "Basic czNjcmV0"}, 401),
    ("h5_auth_bearer_empty", {"Authorization": "Bearer"}, 401),
    ("h7_auth_none_unknown_team", {}, 401),
    ("h8_auth_none_missing_message", {}, 401),
]


@pytest.mark.parametrize(("capture", "headers", "status"), AUTH_CASES, ids=[c[0] for c in AUTH_CASES])
def test_auth_comes_first_in_both_formats(
    secured_urls: tuple[str, str], capture: str, headers: dict, status: int
) -> None:
    documented_url, agentos_url = secured_urls
    team = "no-such-team" if "unknown_team" in capture else "research-team"
    data = {} if "missing_message" in capture else {"message": "hi"}
    real = httpx.post(f"{agentos_url}/teams/{team}/runs", data=data, headers=headers)
    assert (real.status_code, real.content) == (status, captured(capture))
    documented = httpx.post(f"{documented_url}/teams/{team}/runs", data=data, headers=headers)
    assert documented.status_code == status and documented.json()["error_code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("header", [f"Bearer {KEY}", f"bearer {KEY}", f"BEARER  {KEY}", KEY])
def test_the_right_key_in_any_scheme_case_streams(secured_urls: tuple[str, str], header: str) -> None:
    response = httpx.post(
        f"{secured_urls[0]}/teams/research-team/runs",
        data={"message": "[direct] hi"},
        headers={"Authorization": header},
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")


def test_health_needs_no_key(secured_urls: tuple[str, str]) -> None:
    assert httpx.get(f"{secured_urls[0]}/health").json()["status"] == "ok"


def test_bad_speed_header_is_a_clear_400(test_url: str) -> None:
    response = httpx.post(
        f"{test_url}/teams/research-team/runs", data={"message": "hi"}, headers={"X-Mock-Speed": "fast"}
    )
    assert response.status_code == 400
    assert "X-Mock-Speed" in response.json()["detail"]


def test_unknown_route_and_method_answer_json(test_url: str) -> None:
    assert httpx.get(f"{test_url}/nowhere").json() == {"detail": "Not Found", "error_code": "NOT_FOUND"}
    response = httpx.put(f"{test_url}/teams/research-team/runs")
    assert response.status_code == 405 and response.json()["error_code"] == "METHOD_NOT_ALLOWED"


def test_malformed_multipart_is_a_400_and_the_server_keeps_serving(test_url: str) -> None:
    response = httpx.post(
        f"{test_url}/teams/research-team/runs",
        content=b'--xyz\r\nContent-Disposition: form-data; name="message"\r\n\r\nhi',
        headers={"content-type": "multipart/form-data; boundary=xyz"},
    )
    assert response.status_code in (400, 422)
    assert "detail" in response.json()
    assert httpx.post(f"{test_url}/teams/research-team/runs", data={"message": "[direct] hi"}).status_code == 200
