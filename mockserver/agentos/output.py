"""The non-streamed answer (`stream=false`): AgentOS's TeamRunOutput JSON, made from a run's facts."""

from __future__ import annotations

from typing import Any

from mockserver.agentos.expand import UPLOADS_KEY, tool_turn, user_media
from mockserver.agentos.expand import chat_message as message
from mockserver.agentos.fold import RunFold, member_responses
from mockserver.run.plan import Plan
from mockserver.run.stamp import created_at


def system_prompt(plan: Plan) -> str:
    team = plan.context.team
    if team.kind == "agent":  # an agent's system message is its description (g4 agent capture)
        return team.description or team.name
    roster = "\n".join(f'<member id="{m.id}" name="{m.name}">\n  Role: {m.role}\n</member>' for m in team.members)
    parts = [f"<description>\n{team.description}\n</description>"] if team.description else []
    if roster:
        parts.append(f"<team_members>\n{roster}\n</team_members>")
    return "\n\n".join(parts) or team.name


def conversation(plan: Plan, facts: RunFold, created_at: int | str) -> list[dict[str, Any]]:
    """system, user, the assistant's tool calls and their results, then the answer."""
    context = plan.context
    messages = [
        message("system", system_prompt(plan), created_at),
        message("user", context.message, created_at, **user_media(context.media)),
        *tool_turn(facts.tools, created_at, facts.tool_responses),
    ]
    if facts.status != "ERROR":
        ttft = facts.metrics.get("time_to_first_token", 0.0)
        messages.append(message("assistant", facts.content, created_at, metrics={"time_to_first_token": ttft}))
    return messages


def team_run_output(plan: Plan, facts: RunFold) -> dict[str, Any]:
    """The body of a 200 to `stream=false`, keys in the order of the captures."""
    context = plan.context
    created = created_at(0.0)
    body = _opening(plan, facts, "team")
    if context.session_state is not None:
        body["session_state"] = context.session_state
    body["created_at"] = created
    status = facts.status
    if status == "ERROR":
        body["events"] = [facts.error] if facts.error else []
    body.update(
        metrics=facts.metrics,
        status=status,
        messages=conversation(plan, facts, created),
    )
    if context.metadata is not None:
        body["metadata"] = context.metadata
    body["member_responses"] = member_responses(plan, facts)
    if status != "ERROR":
        body["tools"] = facts.tools
    return _closing(plan, body)


def run_output(plan: Plan, facts: RunFold) -> dict[str, Any]:
    """The stream=false body: a team's TeamRunOutput or a stand-alone agent's RunOutput."""
    return agent_run_output(plan, facts) if plan.context.team.kind == "agent" else team_run_output(plan, facts)


def agent_run_output(plan: Plan, facts: RunFold) -> dict[str, Any]:
    """An agent's RunOutput, keys in the order of the `g4`/`g5` agent captures."""
    created = created_at(0.0)
    body = _opening(plan, facts, "agent")
    body.update(
        session_state={},
        created_at=created,
        status=facts.status,
        metrics={k: v for k, v in facts.metrics.items() if k != "details"},
        messages=conversation(plan, facts, created),
    )
    if facts.status != "ERROR" and facts.tools:
        body["tools"] = facts.tools
    return _closing(plan, body)


def _opening(plan: Plan, facts: RunFold, kind: str) -> dict[str, Any]:
    """The keys a team's and an agent's output both start with: ids, names, the answer, the model."""
    context = plan.context
    body: dict[str, Any] = {
        "run_id": context.run_id,
        f"{kind}_id": context.team.id,
        f"{kind}_name": context.team.name,
        "session_id": context.session_id,
    }
    if context.user_id is not None:
        body["user_id"] = context.user_id
    body.update(
        content=facts.content,
        content_type="str",
        model=context.team.model.id,
        model_provider=context.team.model.provider,
    )
    return body


def _closing(plan: Plan, body: dict[str, Any]) -> dict[str, Any]:
    """The keys both end with: the input as agno echoes it, then the mock's upload echo."""
    context = plan.context
    body["input"] = {"input_content": context.message, **context.media}
    if context.uploads:
        body[UPLOADS_KEY] = list(context.uploads)
    return body
