"""Headless Chromium for the browser tests, and a loopback origin to serve their pages from.

Debian's `chromium` driven by Playwright (never `playwright install`). A test that needs it is
skipped when either is missing, except in CI (`CI=true`), where a missing browser is a failure.
Each launch gets Playwright's own fresh temporary profile.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = os.environ.get("MOCKSERVER_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    sync_playwright = None  # type: ignore[assignment]


def require_browser() -> None:
    missing = [
        what
        for what, ok in (("playwright", sync_playwright is not None), (CHROMIUM, shutil.which(CHROMIUM) is not None))
        if not ok
    ]
    if not missing:
        return
    message = f"headless browser test needs {', '.join(missing)} (apt-get install -y chromium; pip install playwright)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium, closed on the way out."""
    require_browser()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def serve_folder(directory: Path) -> Iterator[str]:
    """`directory` served on a free loopback port: a page origin other than the mock's."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass
