"""AG-UI events on the wire, mapped from AgentOS frames as agno 3.1.10's `AGUI` interface maps them.

Source of truth: `agno/os/interfaces/agui/` (`router.py: run_entity`, `stream.py`,
`handlers.py`, `state.py`, `utils.py`) and `ag_ui.encoder.EventEncoder` (one `data: JSON` line a
frame, camelCase keys, fields without a value left out). Names are normalised by dropping the
`Team` prefix, so a member's `RunContent` feeds the same text message as the team's (agno does
that too). Any completion event (`RunCompleted`, `RunError`, `RunPaused`, team or member) is held
back and the last one decides how the stream ends: RUN_ERROR, or RUN_FINISHED (also when the run
ended without one, as after a cancel). Everything without a handler goes out as `RAW`.
"""

from __future__ import annotations

import ast
import copy
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from mockserver import jsontext
from mockserver.agentos.fold import RunFold
from mockserver.run.plan import Frame, Plan
from mockserver.run.stamp import ascii_json
from mockserver.wire.sse import KEEP_ALIVE, STREAM_HEADERS, encode_json

MEDIA_TYPE = "text/event-stream; charset=utf-8"
COMPLETION_EVENTS = frozenset({"RunCompleted", "RunError", "RunPaused"})
"""Normalised names of the events agno's `is_completion_event` holds back until the end."""


def data_frame(event: Mapping[str, Any]) -> bytes:
    return f"data: {encode_json(event)}\n\n".encode()


def to_json_str(value: str | None) -> str:
    """A tool result as JSON text, as agno's `utils.to_json_str` makes it."""
    if value is None:
        return "null"
    try:
        jsontext.loads(value)
        return value
    except (ValueError, TypeError):
        pass
    try:
        return ascii_json(ast.literal_eval(value))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    return ascii_json(value)


def format_reasoning_step(step: Any, number: int) -> str:
    """A ReasoningStep as the text of REASONING_MESSAGE_CONTENT (`handlers._format_reasoning_step`)."""
    if not isinstance(step, Mapping):
        return ""
    parts = [f"## Step {number}: {step.get('title') or 'Thinking'}" if number > 0 else f"## {step.get('title')}"]
    for key, label in (("reasoning", ""), ("action", "Action: "), ("result", "Result: ")):
        if step.get(key):
            parts.append(f"{label}{step[key]}")
    if step.get("confidence") is not None:
        parts.append(f"Confidence: {float(step['confidence'])}")
    return "\n".join(parts) + "\n\n"


def _text(content: Any) -> str:
    """`agno.utils.message.get_text_from_message` for the content a frame can carry."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) if isinstance(part, dict) else str(part) for part in content)
    return ascii_json(content)


class AGUIEvents:
    """One run as an AG-UI event stream; `thread_id`/`run_id` are the request's, `state` its state."""

    streaming = True
    media_type = MEDIA_TYPE
    headers = STREAM_HEADERS

    def __init__(self, thread_id: str, run_id: str, state: dict[str, Any] | None = None) -> None:
        self.thread_id = thread_id
        self.run_id = run_id
        self.state = state
        self.started = False
        self.ids = 0
        self.text_message_id = ""
        self.text_open = False
        self.pending_parent = ""
        self.active_tools: set[str] = set()
        self.ended_tools: set[str] = set()
        self.reasoning_id: str | None = None
        self.reasoning_steps = 0
        self.terminal: Frame | None = None

    def _new_id(self) -> str:
        """Message ids derived from the run id: unique in the run, the same on every replay."""
        self.ids += 1
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"agui:{self.run_id}:{self.ids}"))

    # -- the Encoder protocol -----------------------------------------------------------------

    def frames(self, frames: Sequence[Frame]) -> bytes:
        events = self._prelude()
        for frame in frames:
            events += self.events(frame)
        return b"".join(data_frame(event) for event in events)

    def keep_alive(self) -> bytes:
        return b"".join(data_frame(event) for event in self._prelude()) + KEEP_ALIVE

    def end(self, plan: Plan, facts: RunFold) -> bytes:
        events = self._prelude()
        terminal = self.terminal
        if terminal is not None and terminal.event.removeprefix("Team") == "RunError":
            events += self._run_error(terminal.data)
        else:
            events += self._run_finished(terminal.data if terminal is not None else {})
        return b"".join(data_frame(event) for event in events)

    # -- the mapping ---------------------------------------------------------------------------

    def _prelude(self) -> list[dict[str, Any]]:
        """RUN_STARTED, and STATE_SNAPSHOT when the request brought state: before anything else."""
        if self.started:
            return []
        self.started = True
        events: list[dict[str, Any]] = [{"type": "RUN_STARTED", "threadId": self.thread_id, "runId": self.run_id}]
        if self.state is not None:
            events.append({"type": "STATE_SNAPSHOT", "snapshot": copy.deepcopy(self.state)})
        return events

    def events(self, frame: Frame) -> list[dict[str, Any]]:
        name = frame.event.removeprefix("Team")
        if name in COMPLETION_EVENTS:
            self.terminal = frame
            return []
        handler = _HANDLERS.get(name)
        if handler is None:
            return [{"type": "RAW", "event": frame.data, "source": "agno"}]
        return handler(self, frame.data)

    def _close_text(self) -> list[dict[str, Any]]:
        if not self.text_open:
            return []
        self.text_open = False
        return [{"type": "TEXT_MESSAGE_END", "messageId": self.text_message_id}]

    def _run_content(self, data: Mapping[str, Any]) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        if not self.text_open:
            self.text_message_id = self._new_id()
            self.text_open = True
            self.pending_parent = ""
            events.append({"type": "TEXT_MESSAGE_START", "messageId": self.text_message_id, "role": "assistant"})
        content = _text(data.get("content"))
        if content:
            events.append({"type": "TEXT_MESSAGE_CONTENT", "messageId": self.text_message_id, "delta": content})
        return events

    def _tool_started(self, data: Mapping[str, Any]) -> list[dict[str, Any]]:
        tool = data.get("tool")
        if not isinstance(tool, Mapping):
            return []
        events: list[dict[str, Any]] = []
        if self.text_open:
            events += self._close_text()
            self.pending_parent = self.text_message_id
        parent = self.pending_parent or self.text_message_id
        if not parent:
            parent = self._new_id()
            events.append({"type": "TEXT_MESSAGE_START", "messageId": parent, "role": "assistant"})
            events.append({"type": "TEXT_MESSAGE_END", "messageId": parent})
            self.pending_parent = parent
        call_id = str(tool.get("tool_call_id"))
        events.append(
            {
                "type": "TOOL_CALL_START",
                "toolCallId": call_id,
                "toolCallName": tool.get("tool_name"),
                "parentMessageId": parent,
            }
        )
        # json.dumps with its default separators and ASCII escapes, exactly as agno writes the args.
        events.append({"type": "TOOL_CALL_ARGS", "toolCallId": call_id, "delta": ascii_json(tool.get("tool_args"))})
        self.active_tools.add(call_id)
        return events

    def _tool_completed(self, data: Mapping[str, Any]) -> list[dict[str, Any]]:
        tool = data.get("tool")
        if not isinstance(tool, Mapping) or tool.get("tool_call_id") in self.ended_tools:
            return []
        call_id = str(tool.get("tool_call_id"))
        self.active_tools.discard(call_id)
        self.ended_tools.add(call_id)
        events: list[dict[str, Any]] = [{"type": "TOOL_CALL_END", "toolCallId": call_id}]
        result = tool.get("result")
        if result is not None:
            content = to_json_str(result if isinstance(result, str) else str(result))
            events.append(
                {
                    "type": "TOOL_CALL_RESULT",
                    "messageId": call_id,
                    "toolCallId": call_id,
                    "content": content,
                    "role": "tool",
                }
            )
        return events

    def _start_reasoning(self) -> list[dict[str, Any]]:
        self.reasoning_id = self._new_id()
        self.reasoning_steps = 0
        return [
            {"type": "REASONING_START", "messageId": self.reasoning_id},
            {"type": "REASONING_MESSAGE_START", "messageId": self.reasoning_id, "role": "reasoning"},
        ]

    def _reasoning_started(self, data: Mapping[str, Any]) -> list[dict[str, Any]]:
        return self._close_text() + self._start_reasoning()

    def _reasoning_delta(self, data: Mapping[str, Any]) -> list[dict[str, Any]]:
        events = self._close_text()
        if self.reasoning_id is None:
            events += self._start_reasoning()
        if data.get("reasoning_content"):
            events.append(
                {
                    "type": "REASONING_MESSAGE_CONTENT",
                    "messageId": self.reasoning_id,
                    "delta": data["reasoning_content"],
                }
            )
        return events

    def _reasoning_step(self, data: Mapping[str, Any]) -> list[dict[str, Any]]:
        events = self._close_text()
        if self.reasoning_id is None:
            events += self._start_reasoning()
        self.reasoning_steps += 1
        delta = format_reasoning_step(data.get("content"), self.reasoning_steps)
        if delta:
            events.append({"type": "REASONING_MESSAGE_CONTENT", "messageId": self.reasoning_id, "delta": delta})
        return events

    def _end_reasoning(self) -> list[dict[str, Any]]:
        if self.reasoning_id is None:
            return []
        reasoning_id, self.reasoning_id, self.reasoning_steps = self.reasoning_id, None, 0
        return [
            {"type": "REASONING_MESSAGE_END", "messageId": reasoning_id},
            {"type": "REASONING_END", "messageId": reasoning_id},
        ]

    def _reasoning_completed(self, data: Mapping[str, Any]) -> list[dict[str, Any]]:
        return self._end_reasoning()

    def _custom(self, data: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [{"type": "CUSTOM", "name": "CustomEvent", "value": data}]

    def _close_spans(self) -> list[dict[str, Any]]:
        """No reasoning, tool call or text message is left open by a terminal event."""
        events = self._end_reasoning()
        for call_id in sorted(self.active_tools - self.ended_tools):
            events.append({"type": "TOOL_CALL_END", "toolCallId": call_id})
            self.ended_tools.add(call_id)
        self.active_tools.clear()
        return events + self._close_text()

    def _run_error(self, data: Mapping[str, Any]) -> list[dict[str, Any]]:
        error: dict[str, Any] = {
            "type": "RUN_ERROR",
            "rawEvent": data,
            "message": str(data.get("content") or "Run failed"),
        }
        if data.get("error_type") is not None:
            error["code"] = data["error_type"]
        return [*self._close_spans(), error]

    def _run_finished(self, data: Mapping[str, Any]) -> list[dict[str, Any]]:
        events = self._close_spans()
        if self.state is not None:
            reported = data.get("session_state")
            final = {**self.state, **reported} if isinstance(reported, dict) else self.state
            events.append({"type": "STATE_SNAPSHOT", "snapshot": copy.deepcopy(final)})
        events.append({"type": "RUN_FINISHED", "threadId": self.thread_id, "runId": self.run_id})
        return events


_HANDLERS = {
    "RunContent": AGUIEvents._run_content,
    "ToolCallStarted": AGUIEvents._tool_started,
    "ToolCallCompleted": AGUIEvents._tool_completed,
    "ReasoningStarted": AGUIEvents._reasoning_started,
    "ReasoningContentDelta": AGUIEvents._reasoning_delta,
    "ReasoningStep": AGUIEvents._reasoning_step,
    "ReasoningCompleted": AGUIEvents._reasoning_completed,
    "CustomEvent": AGUIEvents._custom,
}
"""agno's `HANDLERS`, by normalised event name: the one place an event gets its own mapping."""
