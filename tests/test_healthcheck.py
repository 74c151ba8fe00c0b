"""`python -m mockserver.healthcheck`, the image's HEALTHCHECK: 0 when /health answers ok."""

from __future__ import annotations

import pytest

from mockserver import healthcheck
from mockserver.settings import Settings
from tests.conftest import SHIPPED, free_port, run_server


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        (None, None, "http://127.0.0.1:7777/health"),
        ("0.0.0.0", "8000", "http://127.0.0.1:8000/health"),
        ("::", "7777", "http://[::1]:7777/health"),
        ("10.0.0.5", "7777", "http://10.0.0.5:7777/health"),
    ],
)
def test_it_asks_the_address_the_server_binds(
    monkeypatch: pytest.MonkeyPatch, host: str | None, port: str | None, url: str
) -> None:
    for name, value in (("MOCKSERVER_HOST", host), ("MOCKSERVER_PORT", port)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert healthcheck.health_url() == url


def test_it_passes_when_the_server_answers_and_fails_when_none_does(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MOCKSERVER_HOST", "127.0.0.1")
    with run_server(Settings(scenarios=SHIPPED, speed=0)) as url:
        monkeypatch.setenv("MOCKSERVER_PORT", url.rsplit(":", 1)[1])
        assert healthcheck.main() == 0
    monkeypatch.setenv("MOCKSERVER_PORT", str(free_port()))
    assert healthcheck.main() == 1
    assert "unhealthy: GET http://127.0.0.1:" in capsys.readouterr().err
