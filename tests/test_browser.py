"""Headless Chromium plays agent-ui against the mock from another origin, with a bearer token.

Uses Debian's `chromium` through Playwright (`tests/browsers.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from mockserver.settings import Settings
from tests.browsers import chromium, serve_folder
from tests.conftest import SHIPPED, run_server
from tests.slow_team import write_slow_team

PAGE_DIR = Path(__file__).resolve().parent / "browser"
KEY = "browser-key"

if TYPE_CHECKING:
    from playwright.sync_api import Page


@pytest.fixture(scope="module")
def page_origin() -> Iterator[str]:
    """The test page, served from its own loopback origin (another port than the mock)."""
    with serve_folder(PAGE_DIR) as origin:
        yield origin


@pytest.fixture(scope="module")
def mock_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = write_slow_team(tmp_path_factory.mktemp("scenarios"))
    (directory / "quick-team.yaml").write_text((SHIPPED / "quick-team.yaml").read_text())
    with run_server(Settings(scenarios=directory, speed=1, security_key=KEY)) as url:
        yield url


@pytest.fixture(scope="module")
def page(page_origin: str, mock_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{page_origin}/agent_ui.html?api={mock_url}&token={KEY}")
        yield page


def test_agent_ui_calls_work_from_another_origin(page: Page, page_origin: str, mock_url: str) -> None:
    assert page_origin.rsplit(":", 1)[1] != mock_url.rsplit(":", 1)[1], "page and mock are different origins"
    found = page.evaluate("discover()")
    assert found["health"] == 200 and found["agents"] == []
    assert [t["id"] for t in found["teams"]] == ["quick-team", "slow-team"]
    assert page.locator("#teams li").all_text_contents() == ["Quick Team", "Slow Team"]
    db_id = found["teams"][1]["db_id"]

    # A new chat: session_id "", a file, a bearer token; the answer arrives word by word.
    page.evaluate("() => { window.pending = runTeam('slow-team', 'hello there', '', true, 0); }")
    page.wait_for_function("document.getElementById('answer').textContent.includes('w3')")
    assert page.locator("#status").text_content() == "streaming"
    assert "w29" not in page.locator("#answer").text_content()
    chat = page.evaluate("window.pending")
    assert chat["error"] is None
    assert chat["events"][0]["event"] == "TeamRunStarted" and chat["events"][-1]["event"] == "TeamRunCompleted"
    assert page.locator("#status").text_content() == "done"
    assert page.locator("#answer").text_content() == " ".join(f"w{i}" for i in range(30))
    times = chat["times"]
    assert len(times) == 30 and times[-1] - times[0] > 1000, "30 deltas at 20 words/s take about 1.5 s"
    assert chat["runsWhileStreaming"] == 404, "a new session is not stored until its first run ends"
    session_id = chat["sessionId"]

    # The sidebar lists the session; reopening it shows the stored run.
    listed = page.evaluate(f"showSessions('slow-team', '{db_id}')")
    assert [s["session_id"] for s in listed["data"]] == [session_id]
    assert page.locator("#sessions li").all_text_contents() == ["hello there"]
    runs = page.evaluate(f"reopen('{session_id}', '{db_id}')")
    assert runs["status"] == 200
    assert page.locator("#history .user").all_text_contents() == ["hello there"]
    assert page.locator("#history .agent").all_text_contents() == [page.locator("#answer").text_content()]

    # The stop button: cancel after the third delta, in the same session.
    cancelled = page.evaluate(f"runTeam('slow-team', 'stop me', '{session_id}', false, 3)")
    names = [e["event"] for e in cancelled["events"]]
    assert names[-2:] == ["TeamRunCancelled", "TeamRunCompleted"]
    assert names.count("TeamRunContent") < 30
    assert cancelled["sessionId"] == session_id
    assert page.locator("#status").text_content().startswith("TeamRunCancelled: w0 w1 w2")
    history = page.evaluate(f"reopen('{session_id}', '{db_id}')")
    assert [r["status"] for r in history["body"]] == ["COMPLETED", "CANCELLED"]

    assert page.evaluate(f"remove('{session_id}', '{db_id}')")["status"] == 204
    assert page.evaluate(f"reopen('{session_id}', '{db_id}')")["status"] == 404
