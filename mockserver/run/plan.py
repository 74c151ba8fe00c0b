"""What one run is made of: the request's values, and the timed frames that answer it.

The expander (`agentos/expand.py`) builds a `Plan` from a scenario; a fault may cut or extend
it; the player releases its frames on time. Nothing here knows HTTP or YAML.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

from mockserver.scenarios.model import Scenario, Team


@dataclass(frozen=True)
class RunContext:
    """What a request brings to a run: the values templates and envelopes are made from."""

    team: Team
    scenario: Scenario
    message: str
    session_id: str
    run_id: str
    user_id: str | None = None
    files: tuple[dict[str, Any], ...] = ()
    media: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    uploads: tuple[dict[str, Any], ...] = ()
    started_at: float = field(default_factory=time.time)
    session_state: dict[str, Any] | None = None  # the form's `session_state` and `metadata` JSON objects
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True)
class Frame:
    """One event: send `data` (already holding `event`) `at` seconds after the start."""

    at: float
    event: str
    data: dict[str, Any]
    encoded: bytes | None = field(default=None, compare=False, repr=False)
    """Its AgentOS SSE bytes, when the plan is kept for the runs after this one (`run/plans.py`)
    and so was encoded once."""


@dataclass(frozen=True)
class Plan:
    """The frames of one run, and the member responses its delegations would report.

    `member_responses` is what the expander knows of each member run it planned (task, role,
    messages); which of them a run reports depends on how far it got (`agentos/fold.py`).
    """

    context: RunContext
    frames: tuple[Frame, ...]
    member_responses: tuple[dict[str, Any], ...] = ()
    head: float = 0.0
    """Seconds before the response head, already over the speed: a recorded server's time to its headers."""

    @property
    def duration(self) -> float:
        return self.frames[-1].at if self.frames else 0.0


MEMORY_PER_BYTE = 3
"""About the bytes of memory a plan's frames hold for each byte of their SSE stream, their kept
bytes included (research-team: 181 KiB for a 58 KiB stream); the stores' bounds count with it."""


def seed_for(seed: int, team_id: str, message: str) -> str:
    """The seed of one request's randomness: same server seed, team and message, same stream.

    The message enters as its digest: `random.Random` turns a text seed into one integer of all
    its bytes, which for a 1 MB message is four more copies of it at once."""
    digest = hashlib.sha256(message.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{seed}\x00{team_id}\x00{digest}"
