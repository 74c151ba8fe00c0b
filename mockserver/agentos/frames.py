"""The envelope every AgentOS frame starts with, for the frames a run is closed with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.agentos.events import MEMBER_ENVELOPE
from mockserver.run.plan import Frame, RunContext


def team_envelope(context: RunContext) -> dict[str, Any]:
    """The team keys after `created_at` and `event`, in agno's order."""
    return {
        "team_id": context.team.id,
        "team_name": context.team.name,
        "run_id": context.run_id,
        "session_id": context.session_id,
        "nested_depth": 0,
    }


def member_envelope(started: Mapping[str, Any]) -> dict[str, Any]:
    """A member run's keys after `created_at` and `event`, taken from its `RunStarted`."""
    return {key: started[key] for key in MEMBER_ENVELOPE[2:] if key in started}


def team_frame(context: RunContext, event: str, at: float, **fields: Any) -> Frame:
    data: dict[str, Any] = {"created_at": int(context.started_at + at), "event": event, **team_envelope(context), **fields}
    return Frame(at=at, event=event, data=data)

