"""The dashboard at /__mock/ui: its files from the package, the scenario listing, and the page
itself driven in headless Chromium (skipped without a browser, as `test_browser.py` is)."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from mockserver.http.dashboard import ASSETS, asset
from mockserver.settings import Settings
from tests.browsers import chromium
from tests.conftest import SHIPPED, run_server

KEY = "dash-key"
REMOTE = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|@import|url\(\s*["']?(?:https?:)?//""")

if TYPE_CHECKING:
    from playwright.sync_api import Page


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    settings = Settings(scenarios=SHIPPED, speed=0, security_key=KEY)
    with run_server(settings) as url, httpx.Client(base_url=url) as client:
        yield client


def test_the_page_and_its_files_are_served_without_the_key(client: httpx.Client) -> None:
    page = client.get("/__mock/ui")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for src in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        if src == "data:,":
            continue  # no favicon: the browser would ask /favicon.ico of the mock
        assert src.startswith("/__mock/ui/"), f"{src}: the page loads only its own files"
        name = src.rsplit("/", 1)[1]
        response = client.get(src)
        assert response.status_code == 200 and response.headers["content-type"] == ASSETS[name]
    assert client.get("/__mock/ui/").text == client.get("/__mock/ui").text, (
        "a trailing slash is stripped, as on AgentOS"
    )


def test_nothing_outside_the_dashboard_files_is_served(client: httpx.Client) -> None:
    for path in ("/__mock/ui/../dashboard.py", "/__mock/ui/__init__.py", "/__mock/ui/dashboard.py"):
        response = client.get(path)
        assert response.status_code in (401, 404), path
    missing = client.get("/__mock/ui/nope.js")
    assert missing.status_code == 404 and "nope.js" in missing.json()["detail"]


def test_the_page_works_offline_and_weighs_under_200_kb() -> None:
    total = 0
    for name in ASSETS:
        text = asset(name).decode("utf-8")
        total += len(text.encode())
        assert not REMOTE.search(text), f"{name} loads something from the network"
        assert 'fetch("http' not in text and "fetch('http" not in text, name
    assert total < 200 * 1024


def test_scenarios_lists_every_team_with_match_faults_and_file_lines(client: httpx.Client) -> None:
    assert client.get("/__mock/scenarios").status_code == 401, "the data takes the key; only the page is open"
    body = client.get("/__mock/scenarios", headers={"Authorization": f"Bearer {KEY}"}).json()
    teams = {team["id"]: team for team in body["teams"]}
    assert teams["research-team"]["file"].endswith("research-team.yaml")
    assert [m["id"] for m in teams["research-team"]["members"]] == ["researcher", "writer"]
    (research,) = teams["research-team"]["scenarios"]
    assert research["match"] is None and re.search(r"research-team\.yaml:\d+$", research["where"])
    stall = teams["error-stall"]["faults"]
    assert [f["kind"] for f in stall] == ["stall", "stall"] and stall[0]["match"] == r"(?i)\bresume\b"
    assert stall[0]["after_events"] == 5 and re.search(r"error-stall\.yaml:\d+$", stall[0]["where"])
    assert list(teams)[-1].startswith("error-"), "answering teams first, as /teams lists them"


# ---- The page in a browser ----

BROKEN = """\
version: 1
team: {id: broken-team, name: Broken}
scenarios:
  - name: bad
    events:
      - nonsense: 1
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("dashboard-scenarios")
    for name in ("quick-team.yaml", "research-team.yaml", "error-stall.yaml"):
        shutil.copy(SHIPPED / name, directory / name)
    return directory


@pytest.fixture(scope="module")
def mock_url(folder: Path) -> Iterator[str]:
    settings = Settings(scenarios=folder, speed=1, security_key=KEY, reload=True, reload_interval=0.1)
    with run_server(settings) as url:
        yield url


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dashboard-screenshots")


@pytest.fixture(scope="module")
def page(mock_url: str) -> Iterator[Page]:
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(f"{mock_url}/__mock/ui")
        yield page


def _external_run(url: str, team: str, message: str) -> None:
    with httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {KEY}"}) as client:
        response = client.post(f"/teams/{team}/runs", data={"message": message, "stream": "true"})
        assert response.status_code == 200


def test_the_page_asks_for_the_key_once_then_lists_the_scenarios(page: Page, shots: Path) -> None:
    page.wait_for_selector("#key-dialog[open]")
    page.fill("#key-input", KEY)
    page.keyboard.press("Enter")
    page.wait_for_selector("#teams .team-name")
    names = page.locator("#teams .team-name").all_text_contents()
    assert names == ["Quick Team", "Research Team", "Error Stall"]
    page.wait_for_function("document.getElementById('live').textContent === 'live'", timeout=5000)
    assert page.evaluate("sessionStorage.getItem('mockserver.key')") == KEY
    assert page.locator("#teams details[open]").count() == 3, "every team opens with its scenarios shown"
    assert "/(?i)\\bresume\\b/" in page.locator("#teams details[data-team='error-stall']").text_content()
    page.screenshot(path=str(shots / "1-scenarios.png"))


def test_a_run_from_outside_appears_within_a_second_and_its_timeline_has_a_mark_per_frame(
    page: Page, mock_url: str, shots: Path
) -> None:
    before = page.locator("#entries tr").count()
    started = time.monotonic()
    _external_run(mock_url, "research-team", "Why did my UI stutter?")
    ended = time.monotonic()
    page.wait_for_function(f"document.querySelectorAll('#entries tr').length > {before}", timeout=1000)
    assert time.monotonic() - ended < 1.0, f"the run took {ended - started:.1f} s; the entry came within a second"
    row = page.locator("#entries tr").first
    assert "research-team" in row.text_content() and "Why did my UI stutter?" in row.text_content()
    row.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#timeline svg")
    with httpx.Client(base_url=mock_url, headers={"Authorization": f"Bearer {KEY}"}) as client:
        entry = client.get("/__mock/requests", params={"limit": 1}).json()[0]
    assert entry["frames"] > 100
    assert page.locator("#timeline .mark").count() == entry["frames"]
    lanes = page.locator("#timeline .lane-label").all_text_contents()
    assert lanes == ["team", "researcher", "writer"]
    assert page.locator("#timeline .span").count() >= 1, "the tool call is drawn as a span"
    assert page.locator("#detail table.frames tbody tr").count() == entry["frames"]
    page.screenshot(path=str(shots / "2-journal-timeline.png"))


def test_a_held_run_shows_its_hold_on_the_timeline(page: Page, mock_url: str, folder: Path, shots: Path) -> None:
    (folder / "held-team.yaml").write_text(
        "version: 1\nteam: {id: held-team, name: Held Team}\nscenarios:\n  - name: answer\n    events:\n"
        '      - text: "one two three four five six seven"\nfaults:\n  - stall: 400ms\n    after: 4\n'
    )
    page.wait_for_selector("#teams details[data-team='held-team']", timeout=10000)
    _external_run(mock_url, "held-team", "hold on")
    page.wait_for_function("document.querySelector('#entries tr').textContent.includes('held-team')", timeout=2000)
    page.locator("#entries tr").first.click()
    page.wait_for_selector("#timeline .fault-hold")
    assert page.locator("#timeline .fault-hold title").text_content() == "hold 400 ms before frame 4"
    page.screenshot(path=str(shots / "3-hold.png"))
    (folder / "held-team.yaml").unlink()


def test_try_it_streams_the_answer_as_markdown_with_member_activity(page: Page, shots: Path) -> None:
    page.locator("#tab-try").click()
    page.select_option("#try-team", "research-team")
    page.fill("#try-speed", "1")
    page.evaluate(
        """() => {
        window.updates = [];
        new MutationObserver(() => window.updates.push(performance.now()))
          .observe(document.getElementById('try-answer'), {childList: true, subtree: true, characterData: true});
    }"""
    )
    page.locator("#try-message").focus()
    page.keyboard.press("Control+Enter")
    page.wait_for_function("document.getElementById('try-status').textContent.startsWith('done')", timeout=30000)
    updates: list[Any] = page.evaluate("window.updates")
    assert len(updates) >= 10 and updates[-1] - updates[0] > 500, f"{len(updates)} updates"
    answer = page.locator("#try-answer")
    assert answer.locator("h2, h3").count() >= 1 or answer.locator("strong, li").count() >= 1, "rendered as markdown"
    activity = page.locator("#try-activity").text_content()
    assert "web_search" in activity and "Researcher" in activity and "Writer" in activity
    page.screenshot(path=str(shots / "4-try-it.png"))


def test_a_broken_scenario_file_shows_its_file_and_line(page: Page, folder: Path, shots: Path) -> None:
    (folder / "broken.yaml").write_text(BROKEN)
    try:
        page.wait_for_selector("#problems:not([hidden])", timeout=10000)
        text = page.locator("#problems").text_content()
        assert re.search(r"broken\.yaml:\d+", text), text
        page.screenshot(path=str(shots / "5-problems.png"))
    finally:
        (folder / "broken.yaml").unlink()
    page.wait_for_selector("#problems", state="hidden", timeout=10000)


def test_a_server_without_the_journal_feed_is_said_plainly_and_the_rest_still_works(page: Page, mock_url: str) -> None:
    assert page.context.browser is not None
    context = page.context.browser.new_context()
    other = context.new_page()
    try:
        body = '{"detail": "Not Found", "error_code": "NOT_FOUND"}'
        other.route("**/__mock/requests/stream", lambda route: route.fulfill(status=404, body=body))
        other.goto(f"{mock_url}/__mock/ui")
        other.wait_for_selector("#key-dialog[open]")
        other.fill("#key-input", KEY)
        other.keyboard.press("Enter")
        other.wait_for_selector("#banner:not([hidden])")
        assert "journal is off" in other.locator("#banner").text_content()
        assert other.locator("#live").text_content() == "journal off"
        assert other.locator("#teams .team-name").count() >= 3, "the scenarios still load"
    finally:
        context.close()
