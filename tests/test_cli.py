"""The command line: options, their environment variables, and what `serve` prints."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from mockserver.cli import build_parser, settings_from
from tests.conftest import SHIPPED, free_port


def test_every_serve_option_has_an_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "HOST": "0.0.0.0",
        "PORT": "8080",
        "SPEED": "0",
        "SEED": "7",
        "ERROR_FORMAT": "agentos",
        "SCENARIOS": "/tmp/x",
    }.items():
        monkeypatch.setenv(f"MOCKSERVER_{name}", value)
    monkeypatch.setenv("OS_SECURITY_KEY", "k")
    settings = settings_from(build_parser().parse_args(["serve"]))
    chosen = (settings.host, settings.port, settings.speed, settings.seed, settings.error_format, settings.scenarios)
    assert chosen == ("0.0.0.0", 8080, 0.0, 7, "agentos", (Path("/tmp/x"),))
    assert settings.security_key == "k"
    assert settings_from(build_parser().parse_args(["serve", "--port", "9000"])).port == 9000


def test_help_names_the_variables() -> None:
    text = build_parser()._subparsers._group_actions[0].choices["serve"].format_help()  # type: ignore[union-attr]
    for name in ("MOCKSERVER_PORT", "MOCKSERVER_SPEED", "OS_SECURITY_KEY", "MOCKSERVER_ERROR_FORMAT"):
        assert name in text


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--speed", "-1"], {}, "'-1': expected 0 or a number >= 0.001"),
        (["--speed", "1e-310"], {}, "'1e-310': expected 0 or a number >= 0.001"),
        (["--error-format", "xml"], {}, "'xml': expected documented or agentos"),
        ([], {"MOCKSERVER_PORT": "http"}, "MOCKSERVER_PORT='http': expected a port number"),
    ],
)
def test_bad_values_are_named(args: list[str], env: dict[str, str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=30,
    )
    assert result.returncode == 2 and message in result.stderr


def test_serve_prints_its_url_and_teams_then_serves() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--speed", "0", "--scenarios", str(SHIPPED)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        first = process.stdout.readline()  # type: ignore[union-attr]
        assert f"mockserver on http://127.0.0.1:{port} with " in first
        teams = int(first.split(" with ")[1].split()[0])
        lines = [process.stdout.readline() for _ in range(teams)]  # type: ignore[union-attr]
        assert any("/teams/research-team/runs  (Research Team: research)" in line for line in lines)
        while "dashboard: " not in (line := process.stdout.readline()):  # type: ignore[union-attr]
            assert line, "serve printed no dashboard line"
        assert f"dashboard: http://127.0.0.1:{port}/__mock/ui" in line
        deadline = time.monotonic() + 10
        while True:
            try:
                response = httpx.post(f"http://127.0.0.1:{port}/teams/quick-team/runs", data={"message": "hi"})
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert response.status_code == 200 and b"TeamRunCompleted" in response.content
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()  # type: ignore[union-attr]
