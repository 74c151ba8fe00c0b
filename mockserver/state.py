"""The app's one piece of mutable state: settings, the current scenario set, shared helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from mockserver.model import ScenarioSet
from mockserver.settings import Settings
from mockserver.shutdown import Stopping


@dataclass
class AppState:
    settings: Settings
    scenarios: ScenarioSet
    faker: Any
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    stopping: Stopping = field(default_factory=Stopping)
