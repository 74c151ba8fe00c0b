"""Hot reload: the scenarios folder is polled, and a changed folder is loaded and swapped in whole.

Polling `stat()` needs no dependency and also sees edits on Docker Desktop bind mounts, where
the host's file events never reach the container. A folder that no longer loads is logged
problem by problem and the last good set keeps serving. Runs read `state.scenarios` once when
they start, so a running stream keeps the scenario it began with.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from mockserver.scenarios.loader import ScenarioError, load_directory
from mockserver.state import AppState, ReloadResult

logger = logging.getLogger("mockserver.reload")

Fingerprint = frozenset[tuple[str, int, int]]


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


async def reload_once(state: AppState) -> bool:
    """Load the folder again; swap it in when it is good, else log why and keep the old set."""
    directory = state.settings.scenarios
    try:
        scenarios = await anyio.to_thread.run_sync(load_directory, directory)
    except ScenarioError as error:
        state.last_reload = ReloadResult(datetime.now(timezone.utc), False, tuple(str(p) for p in error.problems))
        logger.error(
            "reload failed: %d problem(s) in %s; still serving the last good scenarios",
            len(error.problems),
            directory,
        )
        for problem in error.problems:
            logger.error("  %s", problem)
        return False
    except (OSError, UnicodeDecodeError) as error:
        state.last_reload = ReloadResult(datetime.now(timezone.utc), False, (f"{directory}:0: {error}",))
        logger.error("reload failed: %s; still serving the last good scenarios", error)
        return False
    state.scenarios = scenarios
    state.last_reload = ReloadResult(datetime.now(timezone.utc), True)
    teams = ", ".join(scenarios.teams)
    logger.info("reloaded %s: %d team(s): %s", directory, len(scenarios.teams), teams)
    return True


async def watch(state: AppState, seen: Fingerprint) -> None:
    """Reload whenever the folder's fingerprint is no longer `seen`; forever, until cancelled."""
    directory, interval = state.settings.scenarios, state.settings.reload_interval
    logger.info("watching %s for changes every %gs", directory, interval)
    while True:
        await anyio.sleep(interval)
        current = await anyio.to_thread.run_sync(fingerprint, directory)
        if current != seen:
            seen = current
            await reload_once(state)


@asynccontextmanager
async def watching(app: Any) -> AsyncIterator[None]:
    """The app's lifespan: watches the scenarios folder while serving, when reload is on."""
    state: AppState = app.state.mock
    if not state.settings.reload:
        yield
        return
    # Taken before serving starts, so no edit made once the server is up goes unseen.
    seen = await anyio.to_thread.run_sync(fingerprint, state.settings.scenarios)
    async with anyio.create_task_group() as group:
        group.start_soon(watch, state, seen)
        yield
        group.cancel_scope.cancel()
