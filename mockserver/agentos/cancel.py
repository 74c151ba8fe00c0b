"""Cancelling a run mid-stream: `POST /teams/{team_id}/runs/{run_id}/cancel`, as AgentOS does it.

`LiveRuns` plays a plan (with `player.play`) while the run is registered
under its `run_id`; a cancel wakes it at once and the stream ends the way agno ends a
cancelled run (`i1_cancel_stream`, `i7_cancel_during_member_run`):

- a member run under way gets `RunCancelled` (its streamed text, reason "Run <member run_id>
  was cancelled") then its `RunCompleted`;
- the team gets `TeamRunCancelled` (`content` = the text so far, or the reason when there is
  none; `reason` = "Run <run_id> was cancelled") then `TeamRunCompleted` with that content,
  `session_state`, the member responses so far and the metrics.

The route answers 200 `{}` for any run of a known team, running, finished or unknown, as the
real server does; an unknown team is a 404.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockserver.http.errors import ApiError
from mockserver.run.plan import Frame, Plan, chat_message, completed_tool_ids
from mockserver.run.player import play


class LiveRuns:
    """The runs streaming right now, each with the event that cancels it."""

    def __init__(self) -> None:
        self._running: dict[str, anyio.Event] = {}

    def __contains__(self, run_id: str) -> bool:
        return run_id in self._running

    def __len__(self) -> int:
        return len(self._running)

    def cancel(self, run_id: str) -> bool:
        """Ask a running run to stop; False when no such run is streaming."""
        event = self._running.get(run_id)
        if event is None:
            return False
        event.set()
        return True

    async def play(self, plan: Plan) -> AsyncIterator[Frame]:
        """The plan's frames at `start + frame.at`; on cancel, the closing frames instead of the rest."""
        run_id = plan.context.run_id
        cancelled = anyio.Event()
        self._running[run_id] = cancelled
        try:
            start = anyio.current_time()
            played: list[Frame] = []
            async with aclosing(play(plan, stop=cancelled)) as frames:
                async for frame in frames:
                    played.append(frame)
                    yield frame
            if cancelled.is_set() and len(played) < len(plan.frames):
                for closing in cancel_frames(plan, played, anyio.current_time() - start):
                    yield closing
        finally:
            self._running.pop(run_id, None)


def cancel_frames(plan: Plan, played: list[Frame], elapsed: float) -> list[Frame]:
    """The frames that close a run cancelled after `played`, `elapsed` seconds into it."""
    context = plan.context
    created_at = int(context.started_at + elapsed)
    team_text: list[str] = []
    member: dict[str, Any] | None = None  # the member run under way: its RunStarted data
    member_started = 0.0
    first_content: float | None = None
    member_text: list[str] = []
    member_output: list[str] = []  # what agno folds into the team's content: tool summaries and text
    finished: set[str] = set()
    for frame in played:
        data = frame.data
        if frame.event == "TeamRunContent" and isinstance(data.get("content"), str):
            team_text.append(data["content"])
            first_content = frame.at if first_content is None else first_content
        elif frame.event == "RunStarted" and "agent_id" in data:
            member, member_started, member_text, member_output = data, frame.at, [], []
        elif member is not None and data.get("run_id") == member["run_id"]:
            if frame.event == "RunContent" and isinstance(data.get("content"), str):
                member_text.append(data["content"])
                member_output.append(data["content"])
            elif frame.event == "ToolCallCompleted" and isinstance(data.get("content"), str):
                member_output.append(data["content"])
            elif frame.event in ("RunCompleted", "RunError", "RunCancelled"):
                finished.add(member["run_id"])
                member = None

    frames: list[Frame] = []
    responses = [r for r in plan.member_responses if r.get("run_id") in finished]
    if member is not None:
        member_envelope: dict[str, Any] = {key: member[key] for key in ("agent_id", "agent_name", "run_id", "parent_run_id", "session_id", "nested_depth") if key in member}
        reason = f"Run {member['run_id']} was cancelled"
        content = "".join(member_text) or reason
        frames.append(_frame(elapsed, "RunCancelled", created_at, member_envelope, content=content, reason=reason))
        frames.append(_frame(elapsed, "RunCompleted", created_at, member_envelope, content=content, content_type="str",
                             session_state={"current_session_id": context.session_id, "current_run_id": member["run_id"]},
                             metrics={"duration": round(elapsed - member_started, 6)}))
        planned = next((r for r in plan.member_responses if r.get("run_id") == member["run_id"]), None)
        if planned is not None:
            responses.append(_cancelled_response(planned, content, played))

    team_envelope = {"team_id": context.team.id, "team_name": context.team.name, "run_id": context.run_id,
                     "session_id": context.session_id, "nested_depth": 0}
    reason = f"Run {context.run_id} was cancelled"
    content = "".join(team_text) + "".join(member_output if member is not None else []) or reason
    frames.append(_frame(elapsed, "TeamRunCancelled", created_at, team_envelope, content=content, reason=reason))
    completed: dict[str, Any] = {"content": content, "content_type": "str", "session_state": {}}
    if responses:
        completed["member_responses"] = responses
    metrics = {"time_to_first_token": round(first_content, 6)} if first_content is not None else {}
    completed["metrics"] = {**metrics, "duration": round(elapsed, 6)}
    frames.append(_frame(elapsed, "TeamRunCompleted", created_at, team_envelope, **completed))
    return frames


def _frame(at: float, event: str, created_at: int, envelope: dict[str, Any], **fields: Any) -> Frame:
    return Frame(at=at, event=event, data={"created_at": created_at, "event": event, **envelope, **fields})


def _cancelled_response(planned: dict[str, Any], content: str, played: list[Frame]) -> dict[str, Any]:
    """The planned member response cut where the cancel came: partial text, finished tools only."""
    done = completed_tool_ids(played, "ToolCallCompleted")
    response: dict[str, Any] = {}
    for key, value in planned.items():
        if key == "content":
            value = content
        elif key == "messages":
            value = [*value[:-1], chat_message("assistant", content, planned.get("created_at", 0))] if value else value
        elif key == "tools":
            value = [t for t in value if t.get("tool_call_id") in done]
        response[key] = value
        if key == "status":
            response.update(status="CANCELLED", cancellation_stage="EXECUTING")
    return response


async def cancel_team_run(request: Request) -> Response:
    state = request.app.state.mock
    if request.path_params["team_id"] not in state.scenarios.teams:
        raise ApiError(404, "Team not found")
    state.live_runs.cancel(request.path_params["run_id"])
    return JSONResponse({})


routes = [Route("/teams/{team_id}/runs/{run_id}/cancel", cancel_team_run, methods=["POST"])]
