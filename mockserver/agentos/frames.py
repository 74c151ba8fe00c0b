"""The envelope every AgentOS frame starts with, for the frames a run is closed with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.agentos.events import MEMBER_ENVELOPE
from mockserver.run.plan import Frame, RunContext
from mockserver.run.stamp import created_at


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


def agent_envelope(context: RunContext) -> dict[str, Any]:
    """A stand-alone agent's keys after `created_at` and `event` (no parent: it is the run)."""
    return {
        "agent_id": context.team.id,
        "agent_name": context.team.name,
        "run_id": context.run_id,
        "session_id": context.session_id,
        "nested_depth": 0,
    }


def run_envelope(context: RunContext) -> dict[str, Any]:
    return agent_envelope(context) if context.team.kind == "agent" else team_envelope(context)


def run_event(context: RunContext, base: str) -> str:
    """`base` (`RunError`) as the run's own event: `TeamRunError` for a team, `RunError` for an agent."""
    return base if context.team.kind == "agent" else f"Team{base}"


def run_frame(context: RunContext, base: str, at: float, **fields: Any) -> Frame:
    """The run's own event `base`, for a team or a stand-alone agent."""
    event = run_event(context, base)
    data: dict[str, Any] = {"created_at": created_at(at), "event": event}
    data.update(run_envelope(context), **fields)
    return Frame(at=at, event=event, data=data)


def team_frame(context: RunContext, event: str, at: float, **fields: Any) -> Frame:
    data: dict[str, Any] = {
        "created_at": created_at(at),
        "event": event,
        **team_envelope(context),
        **fields,
    }
    return Frame(at=at, event=event, data=data)
