"""How AgentOS ends a cancelled run (`i1_cancel_stream`, `i7_cancel_during_member_run`).

- each member run under way (several under a `parallel` group) gets `RunCancelled` (its
  streamed text, reason "Run <member run_id> was cancelled") then its `RunCompleted`;
- the team gets `TeamRunCancelled` (`content` = the text so far, with what the members under
  way produced folded in, or the reason when there is none; `reason` = "Run <run_id> was
  cancelled") then `TeamRunCompleted` with that content, `session_state`, the member
  responses so far and the metrics.

The cancel endpoint and the `cancel` fault both end a run with these frames.
"""

from __future__ import annotations

from typing import Any

from mockserver.agentos.expand import chat_message, member_session_state
from mockserver.agentos.fold import MemberRun, RunFold, member_responses
from mockserver.agentos.frames import member_envelope, run_envelope, run_event
from mockserver.run.plan import Frame, Plan
from mockserver.run.stamp import created_at


def cancel_frames(plan: Plan, facts: RunFold, elapsed: float) -> list[Frame]:
    """The frames that close `plan`, cancelled `elapsed` seconds in, after the frames `facts` read."""
    return _closing(plan, facts, elapsed, f"Run {plan.context.run_id} was cancelled", close_member=True)


CLIENT_LEFT_REASON = "Operation cancelled by user"
"""The reason AgentOS gives a run whose client went away; it stores no `cancellation_stage`."""


def client_left_frames(plan: Plan, facts: RunFold, elapsed: float) -> list[Frame]:
    """What AgentOS stores to close a run whose client went away (`n1`, `n2` captures): the
    team's cancel pair with the reason "Operation cancelled by user"; a member run under way
    is not closed, and not stored."""
    return _closing(plan, facts, elapsed, CLIENT_LEFT_REASON, close_member=False)


def _closing(plan: Plan, facts: RunFold, elapsed: float, reason: str, *, close_member: bool) -> list[Frame]:
    context = plan.context
    created = created_at(elapsed)
    under_way = facts.members_under_way()
    responses = member_responses(plan, facts)
    frames: list[Frame] = []
    for member in under_way if close_member else []:
        envelope = member_envelope(member.started.data)
        member_reason = f"Run {member.run_id} was cancelled"
        content = "".join(member.text) or member_reason
        frames.append(_frame(elapsed, "RunCancelled", created, envelope, content=content, reason=member_reason))
        frames.append(
            _frame(
                elapsed,
                "RunCompleted",
                created,
                envelope,
                content=content,
                content_type="str",
                session_state=member_session_state(context, member.run_id),
                metrics={"duration": round(elapsed - member.started.at, 6)},
            )
        )
        planned = next((r for r in plan.member_responses if r.get("run_id") == member.run_id), None)
        if planned is not None:
            responses.append(_cancelled_response(planned, content, member))

    envelope = run_envelope(context)
    content = "".join(facts.team_text) + "".join(part for member in under_way for part in member.output) or reason
    cancelled = run_event(context, "RunCancelled")
    frames.append(_frame(elapsed, cancelled, created, envelope, content=content, reason=reason))
    state = context.session_state or {}
    completed: dict[str, Any] = {"content": content, "content_type": "str", "session_state": state}
    if context.metadata is not None:
        completed["metadata"] = context.metadata
    if responses:
        completed["member_responses"] = responses
    first = facts.first_content_at
    metrics = {"time_to_first_token": round(first, 6)} if first is not None else {}
    completed["metrics"] = {**metrics, "duration": round(elapsed, 6)}
    frames.append(_frame(elapsed, run_event(context, "RunCompleted"), created, envelope, **completed))
    return frames


def _frame(at: float, event: str, created_at: str, envelope: dict[str, Any], **fields: Any) -> Frame:
    return Frame(at=at, event=event, data={"created_at": created_at, "event": event, **envelope, **fields})


def _cancelled_response(planned: dict[str, Any], content: str, member: MemberRun) -> dict[str, Any]:
    """The planned member response cut where the cancel came: partial text, finished tools only."""
    done = {t.get("tool_call_id") for t in member.tools}
    response: dict[str, Any] = {}
    for key, value in planned.items():
        if key == "content":
            value = content
        elif key == "messages":
            value = _cut_messages(value, content, done, planned.get("created_at", 0))
        elif key == "tools":
            value = [t for t in value if t.get("tool_call_id") in done]
        response[key] = value
        if key == "status":
            response.update(status="CANCELLED", cancellation_stage="EXECUTING")
    return response


def _cut_messages(
    messages: list[dict[str, Any]], content: str, done: set[Any], created_at: int | str
) -> list[dict[str, Any]]:
    """A cancelled member's messages as agno stores them: no answer and no unfinished tool; the
    text so far goes on the assistant message that made the calls (or a new one if none did)."""
    kept = [m for m in messages[:-1] if m.get("role") != "tool" or m.get("tool_call_id") in done]
    for index in range(len(kept) - 1, -1, -1):
        if kept[index].get("role") == "assistant":
            message = kept[index]
            rest = {k: v for k, v in message.items() if k not in ("id", "content")}
            kept[index] = {"id": message["id"], "content": content, **rest}
            return kept
    return [*kept, chat_message("assistant", content, created_at)]
