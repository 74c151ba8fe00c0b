"""Hot reload: the scenario folders are polled, and a change loads them all again and swaps them in.

Polling `stat()` needs no dependency and also sees edits on Docker Desktop bind mounts, where
the host's file events never reach the container. Folders that no longer load are logged
problem by problem and the last good set keeps serving. Runs read `state.scenarios` once when
they start, so a running stream keeps the scenario it began with.

The watcher is a plain asyncio task: an anyio task group or sleep would load anyio's event
loop backend (~15 ms and 1 MiB) at start, which the first run that needs it loads anyway.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from mockserver.scenarios.loader import ScenarioError, load_directories
from mockserver.state import AppState, ReloadResult

logger = logging.getLogger("mockserver.reload")

Fingerprint = frozenset[tuple[str, int, int]]
T = TypeVar("T")
_POLL = 0.01


def fingerprint(directory: Path) -> Fingerprint:
    """Path, modification time and size of every scenario file: changes when any file does."""
    seen = set()
    try:
        paths = [p for p in directory.rglob("*") if p.suffix in (".yaml", ".yml")]
    except OSError:
        return frozenset()
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            continue
        seen.add((str(path), stat.st_mtime_ns, stat.st_size))
    return frozenset(seen)


def fingerprints(directories: Iterable[Path]) -> Fingerprint:
    return frozenset().union(*(fingerprint(directory) for directory in directories))


async def in_daemon_thread(work: Callable[[], T]) -> T:
    """`work()` in a daemon thread. Cancelling the wait abandons it; unlike anyio's worker
    threads, a daemon thread does not keep the process alive, so a slow load never holds up
    shutdown."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append((True, work()))
        except BaseException as error:  # noqa: BLE001 - handed to the waiting task
            outcome.append((False, error))

    threading.Thread(target=run, name="mockserver-reload", daemon=True).start()
    while not outcome:  # a thread the loop may outlive cannot safely wake a task: look every 10 ms
        await asyncio.sleep(_POLL)
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


async def reload_once(state: AppState) -> bool:
    """Load the folders again; swap them in when they are good, else log why and keep the old set."""
    directories = state.settings.scenarios
    shown = ", ".join(map(str, directories))
    try:
        scenarios = await in_daemon_thread(lambda: load_directories(directories))
    except ScenarioError as error:
        state.last_reload = ReloadResult(datetime.now(timezone.utc), False, tuple(str(p) for p in error.problems))
        logger.error(
            "reload failed: %d problem(s) in %s; still serving the last good scenarios", len(error.problems), shown
        )
        for problem in error.problems:
            logger.error("  %s", problem)
        return False
    except Exception as error:
        state.last_reload = ReloadResult(datetime.now(timezone.utc), False, (f"{shown}:0: {error}",))
        logger.exception("reload failed in %s; still serving the last good scenarios", shown)
        return False
    state.scenarios = scenarios
    state.last_reload = ReloadResult(datetime.now(timezone.utc), True)
    logger.info("reloaded %s: %d team(s): %s", shown, len(scenarios.teams), ", ".join(scenarios.teams))
    return True


async def watch(state: AppState, seen: Fingerprint) -> None:
    """Reload whenever the folders' fingerprint is no longer `seen`; forever, until cancelled.
    Nothing a reload meets ends the loop, so the next good edit is always picked up."""
    directories, interval = state.settings.scenarios, state.settings.reload_interval
    logger.info("watching %s for changes every %gs", ", ".join(map(str, directories)), interval)
    while True:
        await asyncio.sleep(interval)
        try:
            current = await in_daemon_thread(lambda: fingerprints(directories))
            if current != seen:
                seen = current
                await reload_once(state)
        except Exception:
            logger.exception("looking for scenario changes failed; trying again in %gs", interval)


@asynccontextmanager
async def watching(app: Any) -> AsyncIterator[None]:
    """The app's lifespan: watches the scenario folders while serving, when reload is on."""
    state: AppState = app.state.mock
    if not state.settings.reload:
        yield
        return
    # Taken before serving starts, so no edit made once the server is up goes unseen; on the
    # loop, as uvicorn serves nothing until the lifespan has started.
    seen = fingerprints(state.settings.scenarios)
    watcher = asyncio.create_task(watch(state, seen))
    try:
        yield
    finally:
        watcher.cancel()
        await asyncio.wait([watcher])
