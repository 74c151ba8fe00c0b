"""The app's one piece of mutable state: settings, the current scenario set, shared helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from mockserver.scenarios.model import ScenarioSet
from mockserver.agentos.sessions import SessionStore
from mockserver.settings import Settings
from mockserver.run.live import LiveRuns
from mockserver.run.shutdown import Stopping


@dataclass
class AppState:
    settings: Settings
    scenarios: ScenarioSet
    faker: Any
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    fault_counts: dict[tuple[str, str, str], int] = field(default_factory=dict)
    sessions: SessionStore = field(default_factory=SessionStore)
    live_runs: LiveRuns = field(default_factory=LiveRuns)
    stopping: Stopping = field(default_factory=Stopping)
