"""A Playwright UI test as a user of this mock writes one: headless Chromium, a page on another
origin posting FormData, assertions through the journal and `verify`, a scenario per test.

Uses the `agentos_mock` fixture of the package's pytest plugin, which resets the mock before
each test. Skipped without a browser, as `test_browser.py` is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from mockserver.pytest_plugin import AgentOSMock
from tests.browsers import chromium, serve_folder
from tests.test_control import PNG

PAGE_DIR = Path(__file__).resolve().parent / "browser"

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@pytest.fixture(scope="module")
def ui_origin() -> Iterator[str]:
    """The page under test, on its own loopback origin."""
    with serve_folder(PAGE_DIR) as origin:
        yield origin


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


def send(page: Page, message: str) -> None:
    page.fill("#message", message)
    page.click("#send")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('done')")


def test_the_journal_shows_what_the_page_sent(page: Page, ui_origin: str, agentos_mock: AgentOSMock) -> None:
    assert ui_origin.rsplit(":", 1)[1] != agentos_mock.url.rsplit(":", 1)[1], "page and mock are different origins"
    page.goto(f"{ui_origin}/chat_upload.html?api={agentos_mock.url}&team=quick-team&session=chat-1")
    page.set_input_files("#files", files=[{"name": "pixel.png", "mimeType": "image/png", "buffer": PNG}])
    send(page, "Hello from the browser")
    assert page.text_content("#status") == "done 200"
    assert "I received pixel.png" in (page.text_content("#answer") or "")

    [entry] = agentos_mock.requests(team_id="quick-team")
    assert entry["message"] == "Hello from the browser" and entry["session_id"] == "chat-1"
    assert entry["headers"]["origin"] == ui_origin
    [upload] = entry["files"]
    assert upload["name"] == "pixel.png" and upload["content_type"] == "image/png"
    assert upload["sha256"] == hashlib.sha256(PNG).hexdigest() and upload["size"] == len(PNG)
    agentos_mock.verify({"team_id": "quick-team", "session_id": "chat-1", "file": "pixel.png"}, exactly=1)
    with pytest.raises(AssertionError, match="message: 'Hello from the browser' is not 'Hello'"):
        agentos_mock.verify({"message": "Hello"})


def test_x_mock_scenario_from_the_page_plays_that_scenario(
    page: Page, ui_origin: str, agentos_mock: AgentOSMock
) -> None:
    assert agentos_mock.requests() == [], "the fixture reset the journal between the tests"
    page.goto(f"{ui_origin}/chat_upload.html?api={agentos_mock.url}&team=topic-team&session=chat-2&scenario=code")
    send(page, "what is the weather")
    [entry] = agentos_mock.requests()
    assert entry["scenario"] == "code" and entry["headers"]["x-mock-scenario"] == "code"
    assert page.locator("#events li").all_text_contents() == entry["events"]
    assert "RunStarted" in entry["events"], "the code scenario delegates to a member; weather would not"
    assert "```" in (page.text_content("#answer") or "")
