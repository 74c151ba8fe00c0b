"""A pytest plugin (entry point `pytest11`): the mock as a real server for UI tests.

`agentos_mock` is session-scoped: the first test that asks for it starts the server on a free
loopback port (tests that never ask start nothing), and every test that uses it starts from a
reset mock. The scenarios are the shipped ones unless `--agentos-mock-scenarios DIR` or the
ini key `agentos_mock_scenarios` names a folder; `agentos_mock_speed` (default 0: no delays)
sets the speed.

    def test_send(page, agentos_mock):
        page.goto(f"http://localhost:3000/?api={agentos_mock.url}")
        ...
        agentos_mock.verify({"team_id": "quick-team", "message": "Hello"}, exactly=1)
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

START_TIMEOUT = 10.0
"""Seconds the server may take to start before the fixture gives up."""


class AgentOSMock:
    """A running mock: its `url`, and the `/__mock/` control routes as methods."""

    def __init__(self, url: str, namespace: str = "", key: str | None = None) -> None:
        self.url = url
        self.namespace = namespace
        self.key = key

    def in_namespace(self, namespace: str) -> AgentOSMock:
        """The same server seen from another namespace (its own journal, sessions, counters)."""
        return AgentOSMock(self.url, namespace, self.key)

    def call(self, method: str, path: str, body: Any = None, *, text: str | None = None) -> tuple[int, Any]:
        """One control call; (status, JSON body)."""
        headers = {"Accept": "application/json"}
        data = None
        if text is not None:
            data = text.encode("utf-8")
            headers["Content-Type"] = "application/yaml"
        elif body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.namespace:
            headers["X-Mock-Namespace"] = self.namespace
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own loopback URL
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            with error:
                return error.code, json.loads(error.read() or b"null")

    def _ok(self, method: str, path: str, body: Any = None, *, text: str | None = None) -> Any:
        status, answer = self.call(method, path, body, text=text)
        if status >= 400:
            detail = answer.get("detail") if isinstance(answer, dict) else answer
            raise ValueError(f"{method} {path}: {status} {detail}")
        return answer

    def requests(self, **filters: Any) -> list[dict[str, Any]]:
        """Journal entries, oldest first: team_id, session_id, user_id, path, message (a regex),
        since (an entry id or ISO time), limit (the newest N)."""
        query = urllib.parse.urlencode({k: v for k, v in filters.items() if v is not None})
        result: list[dict[str, Any]] = self._ok("GET", "/__mock/requests" + (f"?{query}" if query else ""))
        return result

    def verify(
        self,
        match: dict[str, Any] | None = None,
        *,
        exactly: int | None = None,
        at_least: int | None = None,
        at_most: int | None = None,
    ) -> list[dict[str, Any]]:
        """The matching requests; AssertionError naming the nearest misses when the count does not hold
        (default: at least one)."""
        count = {k: v for k, v in (("exactly", exactly), ("at_least", at_least), ("at_most", at_most)) if v is not None}
        status, answer = self.call("POST", "/__mock/verify", {"match": match or {}, "count": count or None})
        if status == 200:
            found: list[dict[str, Any]] = answer["requests"]
            return found
        if status != 409:
            raise ValueError(f"POST /__mock/verify: {status} {answer.get('detail')}")
        lines = [answer["detail"]]
        for miss in answer.get("near_misses", []):
            entry = miss["request"]
            lines.append(f"  #{entry['id']} {entry['method']} {entry['path']}: " + "; ".join(miss["differences"]))
        raise AssertionError("\n".join(lines))

    def use_scenario(
        self, team_id: str, name: str | None = None, *, times: int | None = None, sequence: list[str] | None = None
    ) -> None:
        """The next `times` runs of `team_id` (default: all until reset) play scenario `name`,
        or the scenarios of `sequence` in turn, the last one repeating."""
        body: dict[str, Any] = {"sequence": sequence} if sequence is not None else {"name": name}
        if times is not None:
            body["times"] = times
        self._ok("PUT", f"/__mock/teams/{urllib.parse.quote(team_id, safe='')}/scenario", body)

    def add_scenarios(self, yaml_text: str) -> str:
        """Add (or replace) the team of one scenario file, until reset; its team id."""
        team_id: str = self._ok("POST", "/__mock/scenarios", text=yaml_text)["team_id"]
        return team_id

    def reset(self, *only: str) -> None:
        """Clear journal, sessions, counters, overrides and added scenarios (or `only` some)."""
        self._ok("POST", "/__mock/reset", {"only": list(only)} if only else None)

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = self._ok("GET", "/__mock/status")
        return result


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("agentos-mock", "the AgentOS mock server (agentos_mock fixture)")
    group.addoption("--agentos-mock-scenarios", default=None, help="folder of scenario files for agentos_mock")
    parser.addini("agentos_mock_scenarios", "folder of scenario files for agentos_mock (default: the shipped ones)")
    parser.addini("agentos_mock_speed", "speed of agentos_mock: 0 = no delays, 1 = as written", default="0")


@pytest.fixture(scope="session")
def agentos_mock(pytestconfig: pytest.Config) -> Iterator[AgentOSMock]:
    from mockserver.settings import Settings, default_scenarios_dir

    folder = pytestconfig.getoption("agentos_mock_scenarios") or pytestconfig.getini("agentos_mock_scenarios")
    if folder:
        scenarios = Path(folder) if Path(folder).is_absolute() else pytestconfig.rootpath / folder
    else:
        scenarios = default_scenarios_dir()
    speed = float(pytestconfig.getini("agentos_mock_speed") or 0)
    with serving(Settings(scenarios=(scenarios,), speed=speed, reload=False)) as url:
        yield AgentOSMock(url)


@pytest.fixture(autouse=True)
def _agentos_mock_reset(request: pytest.FixtureRequest) -> None:
    """Reset the mock before each test that uses it; tests that do not start nothing."""
    if "agentos_mock" in request.fixturenames:
        request.getfixturevalue("agentos_mock").reset()


@contextmanager
def serving(settings: Any) -> Iterator[str]:
    """The mock of `settings` served by uvicorn in a thread on a free loopback port; yields its URL."""
    import uvicorn

    from mockserver.app import create_app
    from mockserver.server import Server

    app = create_app(settings)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1)
        server = Server(config, app.state.mock.stopping)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                raise RuntimeError(f"the AgentOS mock did not start within {START_TIMEOUT} s")
            time.sleep(0.01)
        try:
            yield f"http://127.0.0.1:{sock.getsockname()[1]}"
        finally:
            server.should_exit = True
            thread.join(timeout=10)
