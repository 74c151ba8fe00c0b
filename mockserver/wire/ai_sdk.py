"""The Vercel AI SDK UI message stream (v1), from AgentOS frames: what `useChat` reads.

Each part is one `data: JSON` line; the stream ends with `data: [DONE]`. The team's own events
become the message: `start`, `start-step`, text as `text-start/-delta/-end`, reasoning as
`reasoning-start/-delta/-end` (each step worded as agno's AG-UI interface words it), its tool
calls (delegations included) as `tool-input-start`, `tool-input-available` and
`tool-output-available` (`tool-output-error` for a failed call), then `finish-step` and
`finish`. A step closes after tool results, as the model's next request opens a new one.

Member runs are not mixed into the answer's text: each is one `data-agno-member` part, keyed by
the member's run id so later parts update it in place, with
`{agentId, agentName, runId, status, content, tools}`; status is `running`, then `COMPLETED`,
`ERROR` or `CANCELLED`.

A run error is an `error` part, a cancelled run an `abort` part; both end the stream.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from mockserver import jsontext
from mockserver.agentos.fold import MEMBER_ENDINGS, RunFold
from mockserver.run.plan import Frame, Plan
from mockserver.wire.agui import format_reasoning_step
from mockserver.wire.sse import KEEP_ALIVE, STREAM_HEADERS, encode_json

MEDIA_TYPE = "text/event-stream; charset=utf-8"
HEADERS: dict[str, str] = {**STREAM_HEADERS, "x-vercel-ai-ui-message-stream": "v1"}
DONE = b"data: [DONE]\n\n"
MEMBER_PART = "data-agno-member"


def part_frame(part: Mapping[str, Any]) -> bytes:
    return f"data: {encode_json(part)}\n\n".encode()


def tool_output(result: Any) -> Any:
    """A tool's result as the UI gets it: the JSON it holds, else the text itself."""
    if isinstance(result, str):
        try:
            return jsontext.loads(result)
        except ValueError:
            return result
    return result


class UIMessageStream:
    """One run as one assistant UI message; `message_id` names it (the run id)."""

    streaming = True
    media_type = MEDIA_TYPE
    headers = HEADERS

    def __init__(self, message_id: str) -> None:
        self.message_id = message_id
        self.started = False
        self.finished = False
        self.ids = 0
        self.text_id: str | None = None
        self.reasoning_id: str | None = None
        self.reasoning_steps = 0
        self.after_tools = False
        self.members: dict[str, dict[str, Any]] = {}

    def _new_id(self, kind: str) -> str:
        self.ids += 1
        return f"{kind}-{uuid.uuid5(uuid.NAMESPACE_URL, f'ai-sdk:{self.message_id}:{self.ids}')}"

    # -- the Encoder protocol -----------------------------------------------------------------

    def frames(self, frames: Sequence[Frame]) -> bytes:
        parts = self._prelude()
        for frame in frames:
            if not self.finished:
                parts += self.parts(frame)
        return b"".join(part_frame(part) for part in parts)

    def keep_alive(self) -> bytes:
        return b"".join(part_frame(part) for part in self._prelude()) + KEEP_ALIVE

    def end(self, plan: Plan, facts: RunFold) -> bytes:
        parts = self._prelude()
        if not self.finished:
            parts += self._finish()
        return b"".join(part_frame(part) for part in parts) + DONE

    # -- the mapping ---------------------------------------------------------------------------

    def _prelude(self) -> list[dict[str, Any]]:
        if self.started:
            return []
        self.started = True
        return [{"type": "start", "messageId": self.message_id}, {"type": "start-step"}]

    def parts(self, frame: Frame) -> list[dict[str, Any]]:
        data = frame.data
        if "parent_run_id" in data:  # a member's; a stand-alone agent's own events have no parent
            return self._member(frame.event, data)
        name = frame.event.removeprefix("Team")
        if name == "RunContent" and isinstance(data.get("content"), str) and data["content"]:
            return self._text(data["content"])
        if name == "ToolCallStarted" and isinstance(data.get("tool"), Mapping):
            return self._tool_started(data["tool"])
        if name == "ToolCallCompleted" and isinstance(data.get("tool"), Mapping):
            return self._tool_completed(data["tool"])
        if name == "ReasoningStarted":
            return self._close_text() + self._start_reasoning()
        if name == "ReasoningStep":
            self.reasoning_steps += 1
            return self._reasoning(format_reasoning_step(data.get("content"), self.reasoning_steps))
        if name == "ReasoningContentDelta" and data.get("reasoning_content"):
            return self._reasoning(str(data["reasoning_content"]))
        if name == "ReasoningCompleted":
            return self._close_reasoning()
        if name == "RunCompleted":
            return self._finish()
        if name == "RunError":
            self.finished = True
            return [{"type": "error", "errorText": str(data.get("content") or "Run failed")}]
        if name == "RunCancelled":
            self.finished = True
            return [*self._close_text(), *self._close_reasoning(), {"type": "abort"}]
        return []

    def _next_step(self) -> list[dict[str, Any]]:
        """After tool results, the model's next output opens a new step."""
        if not self.after_tools:
            return []
        self.after_tools = False
        return [{"type": "finish-step"}, {"type": "start-step"}]

    def _text(self, delta: str) -> list[dict[str, Any]]:
        parts = self._close_reasoning()
        if self.text_id is None:
            parts += self._next_step()
            self.text_id = self._new_id("text")
            parts.append({"type": "text-start", "id": self.text_id})
        parts.append({"type": "text-delta", "id": self.text_id, "delta": delta})
        return parts

    def _close_text(self) -> list[dict[str, Any]]:
        if self.text_id is None:
            return []
        text_id, self.text_id = self.text_id, None
        return [{"type": "text-end", "id": text_id}]

    def _start_reasoning(self) -> list[dict[str, Any]]:
        parts = self._close_reasoning() + self._next_step()
        self.reasoning_id = self._new_id("reasoning")
        self.reasoning_steps = 0
        return [*parts, {"type": "reasoning-start", "id": self.reasoning_id}]

    def _reasoning(self, delta: str) -> list[dict[str, Any]]:
        parts = self._close_text()
        if self.reasoning_id is None:
            parts += self._start_reasoning()
        if delta:
            parts.append({"type": "reasoning-delta", "id": self.reasoning_id, "delta": delta})
        return parts

    def _close_reasoning(self) -> list[dict[str, Any]]:
        if self.reasoning_id is None:
            return []
        reasoning_id, self.reasoning_id = self.reasoning_id, None
        return [{"type": "reasoning-end", "id": reasoning_id}]

    def _tool_started(self, tool: Mapping[str, Any]) -> list[dict[str, Any]]:
        parts = self._close_text() + self._close_reasoning()
        parts += self._next_step()
        call_id, name = str(tool.get("tool_call_id")), str(tool.get("tool_name"))
        parts.append({"type": "tool-input-start", "toolCallId": call_id, "toolName": name})
        parts.append(
            {"type": "tool-input-available", "toolCallId": call_id, "toolName": name, "input": tool.get("tool_args")}
        )
        return parts

    def _tool_completed(self, tool: Mapping[str, Any]) -> list[dict[str, Any]]:
        self.after_tools = True
        call_id = str(tool.get("tool_call_id"))
        if tool.get("tool_call_error"):
            return [{"type": "tool-output-error", "toolCallId": call_id, "errorText": str(tool.get("result"))}]
        return [{"type": "tool-output-available", "toolCallId": call_id, "output": tool_output(tool.get("result"))}]

    def _member(self, event: str, data: Mapping[str, Any]) -> list[dict[str, Any]]:
        run_id = data.get("run_id")
        if not isinstance(run_id, str):
            return []
        if event == "RunStarted":
            self.members[run_id] = {
                "agentId": data.get("agent_id"),
                "agentName": data.get("agent_name"),
                "runId": run_id,
                "status": "running",
                "content": "",
                "tools": [],
            }
            return [self._member_part(run_id)]
        member = self.members.get(run_id)
        if member is None:
            return []
        if event == "RunContent" and isinstance(data.get("content"), str):
            member["content"] += data["content"]  # sent with the next tool result or the ending
        elif event == "ToolCallCompleted" and isinstance(data.get("tool"), Mapping):
            tool = data["tool"]
            member["tools"].append(
                {
                    "toolName": tool.get("tool_name"),
                    "input": tool.get("tool_args"),
                    "output": tool_output(tool.get("result")),
                }
            )
            return [self._member_part(run_id)]
        elif event in MEMBER_ENDINGS:
            member["status"] = MEMBER_ENDINGS[event]
            if isinstance(data.get("content"), str):
                member["content"] = data["content"]
            return [self._member_part(run_id)]
        return []

    def _member_part(self, run_id: str) -> dict[str, Any]:
        member = self.members[run_id]
        return {"type": MEMBER_PART, "id": run_id, "data": {**member, "tools": list(member["tools"])}}

    def _finish(self) -> list[dict[str, Any]]:
        self.finished = True
        return [
            *self._close_text(),
            *self._close_reasoning(),
            {"type": "finish-step"},
            {"type": "finish", "finishReason": "stop"},
        ]
