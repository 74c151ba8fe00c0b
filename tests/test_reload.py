"""Hot reload: an edited scenario serves the next run, a broken one keeps the last good set."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from mockserver.scenarios import reload
from mockserver.scenarios.reload import fingerprint
from mockserver.settings import Settings
from tests.conftest import parse_sse, run_server

TEAM = """\
version: 1
team:
  id: echo-team
  name: Echo Team
scenarios:
  - name: {name}
    gap: {gap}
    pace: 200 words/s
    events:
      - text: {text}
"""


def write(folder: Path, name: str, text: str, gap: str = "0ms") -> None:
    path = folder / "echo.yaml"
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(TEAM.format(name=name, text=text, gap=gap))
    while path.stat().st_mtime_ns == before:  # a coarse clock could hide a quick rewrite
        time.sleep(0.01)
        path.write_text(TEAM.format(name=name, text=text, gap=gap))


def answer(url: str) -> str:
    response = httpx.post(
        f"{url}/teams/echo-team/runs", data={"message": "hi", "stream": "false"}, headers={"X-Mock-Speed": "0"}
    )
    assert response.status_code == 200
    return response.json()["content"]


def eventually(check: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "did not happen in time"
        time.sleep(0.02)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write(tmp_path, "first", "first version")
    (tmp_path / "other.yaml").write_text(
        TEAM.format(name="x", text="other", gap="0ms").replace("echo-team", "other-team")
    )
    return tmp_path


@pytest.fixture
def url(folder: Path) -> Iterator[str]:
    with run_server(Settings(scenarios=(folder,), speed=1, reload=True, reload_interval=0.02)) as url:
        yield url


def test_an_edited_scenario_serves_the_next_run_without_a_restart(folder: Path, url: str) -> None:
    assert answer(url) == "first version"
    write(folder, "second", "second version")
    eventually(lambda: answer(url) == "second version")


def test_a_broken_file_is_logged_and_the_last_good_set_keeps_serving(
    folder: Path, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mockserver")
    write(folder, "second", "second version")
    eventually(lambda: answer(url) == "second version")
    (folder / "echo.yaml").write_text(TEAM.format(name="third", text="third version", gap="soon"))
    eventually(lambda: any("reload failed" in r.getMessage() for r in caplog.records))
    problems = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any(f"{folder / 'echo.yaml'}:7: " in p and "bad duration 'soon'" in p for p in problems), problems
    assert answer(url) == "second version"
    assert httpx.post(f"{url}/teams/other-team/runs", data={"message": "hi"}).status_code == 200
    write(folder, "fourth", "fourth version")
    eventually(lambda: answer(url) == "fourth version")


ALIAS_BOMB = b"a: &a [1,1,1,1,1,1,1,1,1,1]\n" + b"".join(
    b"%c: &%c [%s]\n" % (n, n, b",".join([b"*%c" % p] * 10)) for p, n in zip(b"abcdef", b"bcdefg", strict=True)
)


@pytest.mark.parametrize(
    ("hostile", "expected"),
    [
        (b"x: " + b"[" * 3000 + b"]" * 3000, "nested more than 64 deep"),
        (b"version: 1\nteam: {id: echo-team}\nx: caf\xff\n", "is not UTF-8"),
        (ALIAS_BOMB, "the node limit"),
    ],
    ids=["nested", "utf8", "alias-bomb"],
)
def test_a_hostile_edit_keeps_the_last_good_set_and_the_next_good_edit_is_served(
    folder: Path, url: str, caplog: pytest.LogCaptureFixture, hostile: bytes, expected: str
) -> None:
    caplog.set_level(logging.INFO, logger="mockserver")
    (folder / "echo.yaml").write_bytes(hostile)
    eventually(lambda: any(expected in r.getMessage() for r in caplog.records))
    assert not any(r.exc_info for r in caplog.records)
    assert answer(url) == "first version"
    write(folder, "second", "second version")
    eventually(lambda: answer(url) == "second version")


def test_an_unexpected_error_in_a_reload_is_logged_and_watching_goes_on(
    folder: Path, url: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, logger="mockserver")
    real = reload.load_directories
    calls = []

    def broken_once(directories: object) -> object:
        calls.append(directories)
        if len(calls) == 1:
            raise RuntimeError("a loader bug")
        return real(directories)  # type: ignore[arg-type]

    monkeypatch.setattr(reload, "load_directories", broken_once)
    write(folder, "second", "second version")
    eventually(lambda: any("reload failed" in r.getMessage() and r.exc_info for r in caplog.records))
    assert answer(url) == "first version"
    write(folder, "third", "third version")
    eventually(lambda: answer(url) == "third version")


def test_shutdown_does_not_wait_for_a_reload_under_way(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started, release = threading.Event(), threading.Event()

    def endless(directories: object) -> None:
        started.set()
        release.wait(60)

    monkeypatch.setattr(reload, "load_directories", endless)
    try:
        with run_server(Settings(scenarios=(folder,), speed=0, reload=True, reload_interval=0.02)):
            write(folder, "second", "second version")
            assert started.wait(5)
            loading = next(t for t in threading.enumerate() if t.name == "mockserver-reload")
            stopping = time.monotonic()
        assert time.monotonic() - stopping < 2
        assert loading.daemon and loading.is_alive()  # left behind: it cannot hold the process up
    finally:
        release.set()


def test_every_folder_is_watched(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    more = tmp_path_factory.mktemp("more")
    write(more, "x", "from the second folder")
    (more / "echo.yaml").rename(more / "more.yaml")
    (more / "more.yaml").write_text((more / "more.yaml").read_text().replace("echo-team", "more-team"))
    with run_server(Settings(scenarios=(folder, more), speed=0, reload=True, reload_interval=0.02)) as url:

        def more_answer() -> str:
            response = httpx.post(f"{url}/teams/more-team/runs", data={"message": "hi", "stream": "false"})
            return response.json()["content"]

        assert (answer(url), more_answer()) == ("first version", "from the second folder")
        (more / "more.yaml").write_text((more / "more.yaml").read_text().replace("from the second folder", "edited"))
        eventually(lambda: more_answer() == "edited")


def test_a_running_stream_keeps_the_scenario_it_started_with(
    folder: Path, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mockserver")
    write(folder, "slow", "old words keep coming one by one", gap="80ms")
    eventually(lambda: answer(url) == "old words keep coming one by one")
    with httpx.stream("POST", f"{url}/teams/echo-team/runs", data={"message": "hi"}) as response:
        chunks = response.iter_raw()
        body = next(chunks)
        reloads = sum("reloaded" in r.getMessage() for r in caplog.records)
        write(folder, "new", "new words")
        eventually(lambda: sum("reloaded" in r.getMessage() for r in caplog.records) > reloads)
        body += b"".join(chunks)
    completed = parse_sse(body)[-1][1]
    assert completed["event"] == "TeamRunCompleted" and completed["content"] == "old words keep coming one by one"
    assert answer(url) == "new words"


def test_reload_off_keeps_the_set_loaded_at_start(folder: Path) -> None:
    with run_server(Settings(scenarios=(folder,), speed=0, reload=False, reload_interval=0.02)) as url:
        write(folder, "second", "second version")
        time.sleep(0.2)
        assert answer(url) == "first version"


def test_the_fingerprint_changes_with_any_scenario_file(tmp_path: Path) -> None:
    assert fingerprint(tmp_path / "missing") == frozenset()
    write(tmp_path, "a", "one")
    first = fingerprint(tmp_path)
    (tmp_path / "notes.txt").write_text("not a scenario")
    assert fingerprint(tmp_path) == first
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "more.yml").write_text("version: 1")
    assert fingerprint(tmp_path) != first
