"""The non-streamed answer (`stream=false`): AgentOS's TeamRunOutput JSON, made from a plan."""

from __future__ import annotations

import json
from typing import Any

from mockserver.run.plan import UPLOADS_KEY, Plan, chat_message as message


def system_prompt(plan: Plan) -> str:
    team = plan.context.team
    roster = "\n".join(f'<member id="{m.id}" name="{m.name}">\n  Role: {m.role}\n</member>' for m in team.members)
    parts = [f"<description>\n{team.description}\n</description>"] if team.description else []
    if roster:
        parts.append(f"<team_members>\n{roster}\n</team_members>")
    return "\n\n".join(parts) or team.name


def conversation(plan: Plan, created_at: int) -> list[dict[str, Any]]:
    """system, user, the assistant's tool calls and their results, then the answer."""
    messages = [message("system", system_prompt(plan), created_at), message("user", plan.context.message, created_at, **plan.context.media)]
    if plan.tools:
        calls = [
            {"id": t["tool_call_id"], "type": "function", "function": {"name": t["tool_name"], "arguments": json.dumps(t["tool_args"])}}
            for t in plan.tools
        ]
        messages.append(message("assistant", None, created_at, tool_calls=calls))
        for tool in plan.tools:
            messages.append(message(
                "tool", tool["result"], created_at,
                tool_call_id=tool["tool_call_id"], tool_name=tool["tool_name"],
                tool_args=tool["tool_args"], tool_call_error=tool["tool_call_error"],
            ))
    if plan.status != "ERROR":
        messages.append(message("assistant", plan.content, created_at, metrics={"time_to_first_token": _last_metrics(plan).get("time_to_first_token", 0.0)}))
    return messages


def _last_metrics(plan: Plan) -> dict[str, Any]:
    last = plan.frames[-1].data if plan.frames else {}
    metrics = last.get("metrics")
    if isinstance(metrics, dict):
        return metrics
    duration = plan.frames[-1].at if plan.frames else 0.0
    return {"duration": round(duration, 6)}


def team_run_output(plan: Plan) -> dict[str, Any]:
    """The body of a 200 to `stream=false`, keys in the order of the captures."""
    context = plan.context
    team = context.team
    created_at = int(context.started_at)
    body: dict[str, Any] = {
        "run_id": context.run_id,
        "team_id": team.id,
        "team_name": team.name,
        "session_id": context.session_id,
    }
    if context.user_id is not None:
        body["user_id"] = context.user_id
    body.update(
        content=plan.content,
        content_type="str",
        model=team.model.id,
        model_provider=team.model.provider,
        created_at=created_at,
    )
    if plan.status == "ERROR":
        body["events"] = [plan.error] if plan.error else []
    body.update(
        metrics=_last_metrics(plan),
        status=plan.status,
        messages=conversation(plan, created_at),
        member_responses=plan.member_responses,
    )
    if plan.status != "ERROR":
        body["tools"] = plan.tools
    body["input"] = {"input_content": context.message, **context.media}
    if context.uploads:
        body[UPLOADS_KEY] = list(context.uploads)
    return body
