"""The kinds of step a scenario's `events:` list holds, each declared once in `STEPS`.

An entry names the key that marks the kind, the function that reads it, and the JSON Schema
of every key it takes; `read_steps` and `schema.py` find the kinds there and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from mockserver.agentos.events import EVENTS
from mockserver.scenarios.model import (
    Delegation,
    Parallel,
    RawEvent,
    Reasoning,
    ReasoningStep,
    Step,
    Text,
    ToolCall,
)
from mockserver.scenarios.readers.fields import DURATION_SCHEMA, PACE_SCHEMA, Reader, plain
from mockserver.scenarios.yamlsource import LineDict, LineList, line_of

StepReader = Callable[[Reader, LineDict, str, str | None], Step | None]


@dataclass(frozen=True)
class StepKind:
    key: str
    read: StepReader
    """Reads the item (`where` names it, `member` is the delegate it stands in, if any)."""
    properties: Mapping[str, Any]
    """JSON Schema of every key the kind takes, its own key first."""
    description: str
    required: tuple[str, ...] = ()
    """Keys it needs beside its own."""
    open: bool = False
    """Keys it does not know pass through; its key wins when an item has several kinds' keys."""
    names: Collection[str] = ()
    """Bare strings that stand for `{key: name}`."""

    @property
    def allowed(self) -> tuple[str, ...]:
        return tuple(self.properties)


def read_steps(reader: Reader, items: LineList, where: str, member: str | None) -> tuple[Step, ...]:
    steps = []
    for index, item in enumerate(items):
        line = line_of(items, index)
        step_where = f"{where}.events[{index}]"
        item = _named(item, line)
        if not isinstance(item, LineDict):
            reader.problem(line, f"{step_where}: expected a mapping with one of the keys {', '.join(STEP_KINDS)}")
            continue
        found = [kind for kind in STEPS if kind.open and kind.key in item] or [
            kind for kind in STEPS if kind.key in item
        ]
        if len(found) != 1:
            names = ", ".join(kind.key for kind in found) or "none"
            reader.problem(
                line, f"{step_where}: expected exactly one of the keys {', '.join(STEP_KINDS)}; found {names}"
            )
            continue
        kind = found[0]
        if not kind.open:
            reader.known_keys(item, kind.allowed, step_where)
        step = kind.read(reader, item, step_where, member)
        if step is not None:
            steps.append(step)
    return tuple(steps)


def _named(item: Any, line: int) -> Any:
    """A bare string one kind accepts (an event type: `- TeamRunStarted`) as that kind's mapping."""
    if not isinstance(item, str):
        return item
    kind = next((kind for kind in STEPS if item in kind.names), None)
    if kind is None:
        return item
    mapping = LineDict({kind.key: item})
    mapping.line, mapping.key_lines = line, {kind.key: line}
    return mapping


def read_event(reader: Reader, doc: LineDict, where: str, member: str | None) -> RawEvent | None:
    name = doc["event"]
    spec = EVENTS.get(name) if isinstance(name, str) else None
    if spec is None:
        close = [n for n in EVENTS if isinstance(name, str) and n.lower() == name.lower()]
        hint = (
            f"did you mean {close[0]!r}?"
            if close
            else "expected an AgentOS event type such as TeamRunContent, TeamToolCallStarted or RunContent"
        )
        reader.problem(line_of(doc, "event"), f"{where}: unknown event type {name!r}; {hint}")
        return None
    fields = {k: v for k, v in doc.items() if k not in ("event", "member", "delay")}
    reader.check_templates(fields, doc.line, where)
    event_member = doc.get("member", fields.get("agent_id", member))
    if spec.member:
        if event_member is None:
            reader.problem(
                line_of(doc, "event"),
                f"{where}: {name} is a member event; give `member: <member id>` or put it inside a delegate",
            )
            return None
        if not isinstance(event_member, str) or event_member not in reader.members:
            known = ", ".join(reader.members) or "none"
            reader.problem(
                line_of(doc, "member"), f"{where}: unknown member {event_member!r}; team members are {known}"
            )
            return None
    elif member is not None:
        reader.problem(
            line_of(doc, "event"),
            (
                f"{where}: {name} is a team event and cannot stand inside a delegate; use the member event without "
                f"the Team prefix"
            ),
        )
        return None
    elif "member" in doc:
        reader.problem(line_of(doc, "member"), f"{where}: `member` is for member events; {name} is a team event")
    return RawEvent(
        event=name,
        fields=plain(fields),
        member=event_member if spec.member else None,
        delay=reader.duration(doc, "delay", where),
    )


def read_text(reader: Reader, doc: LineDict, where: str, member: str | None) -> Text | None:
    text: str | tuple[str, ...]
    if isinstance(doc["text"], list) and doc["text"] and all(isinstance(c, str) for c in doc["text"]):
        text = tuple(doc["text"])
        reader.check_templates(doc["text"], line_of(doc, "text"), f"{where}.text")
    else:
        text = reader.string(doc, "text", where)
    if not text:
        reader.problem(
            line_of(doc, "text"), f"{where}.text: expected a non-empty string, or a list of the deltas to send"
        )
        return None
    pace = reader.pace(doc, where) if "pace" in doc else None
    return Text(text=text, pace=pace, delay=reader.duration(doc, "delay", where))


def read_tool(reader: Reader, doc: LineDict, where: str, member: str | None) -> ToolCall | None:
    name = reader.string(doc, "tool", where)
    if not name:
        reader.problem(line_of(doc, "tool"), f"{where}.tool: expected the tool's name")
        return None
    args = doc.get("args", {})
    if not isinstance(args, dict):
        reader.problem(line_of(doc, "args"), f"{where}.args: expected a mapping of argument names to values")
        args = {}
    reader.check_templates(args, line_of(doc, "args"), f"{where}.args")
    reader.check_templates(doc.get("result"), line_of(doc, "result"), f"{where}.result")
    error = doc.get("error", False)
    if not isinstance(error, bool):
        reader.problem(line_of(doc, "error"), f"{where}.error: expected true or false")
        error = False
    return ToolCall(
        name=name,
        args=plain(args),
        result=plain(doc.get("result")),
        error=error,
        duration=reader.duration(doc, "duration", where) or 0.0,
        delay=reader.duration(doc, "delay", where),
        description=reader.string(doc, "description", where),
    )


_REASONING_STEP = {
    "title": {"type": "string"},
    "reasoning": {"type": "string"},
    "action": {"type": "string"},
    "result": {"type": "string"},
    "confidence": {"type": "number", "minimum": 0, "maximum": 1},
    "next_action": {"type": "string"},
}


def read_reasoning(reader: Reader, doc: LineDict, where: str, member: str | None) -> Reasoning | None:
    items = doc["reasoning"]
    if not isinstance(items, LineList) or not items:
        reader.problem(
            line_of(doc, "reasoning"),
            f"{where}.reasoning: expected a list of steps (strings or mappings with title, reasoning)",
        )
        return None
    steps = []
    for index, item in enumerate(items):
        step_where = f"{where}.reasoning[{index}]"
        if isinstance(item, str):
            reader.check_templates(item, line_of(items, index), step_where)
            steps.append(ReasoningStep(title=item))
        elif isinstance(item, LineDict):
            reader.known_keys(item, tuple(_REASONING_STEP), step_where)
            confidence = item.get("confidence")
            if confidence is not None and not (isinstance(confidence, (int, float)) and 0 <= confidence <= 1):
                reader.problem(line_of(item, "confidence"), f"{step_where}.confidence: expected a number from 0 to 1")
                confidence = None
            steps.append(
                ReasoningStep(
                    title=reader.string(item, "title", step_where, required=True),
                    reasoning=reader.string(item, "reasoning", step_where),
                    action=reader.string(item, "action", step_where) or None,
                    result=reader.string(item, "result", step_where) or None,
                    confidence=confidence,
                    next_action=reader.string(item, "next_action", step_where, default="continue"),
                )
            )
        else:
            reader.problem(line_of(items, index), f"{step_where}: expected a string or a mapping with title, reasoning")
    return Reasoning(steps=tuple(steps), delay=reader.duration(doc, "delay", where))


def read_delegate(reader: Reader, doc: LineDict, where: str, member: str | None) -> Delegation | None:
    if member is not None:
        reader.problem(line_of(doc, "delegate"), f"{where}: a member cannot delegate; delegate from the team's events")
        return None
    if reader.kind == "agent":
        reader.problem(line_of(doc, "delegate"), f"{where}: an agent cannot delegate; only a team's events can")
        return None
    member_id = doc["delegate"]
    if not isinstance(member_id, str) or member_id not in reader.members:
        known = ", ".join(reader.members) or "none"
        reader.problem(
            line_of(doc, "delegate"), f"{where}.delegate: unknown member {member_id!r}; team members are {known}"
        )
        return None
    task = reader.string(doc, "task", where, required=True)
    events = doc.get("events", LineList())
    if not isinstance(events, LineList):
        reader.problem(line_of(doc, "events"), f"{where}.events: expected a list of the member's events")
        events = LineList()
    return Delegation(
        member=member_id,
        task=task,
        steps=read_steps(reader, events, where, member_id),
        delay=reader.duration(doc, "delay", where),
    )


CALL_KINDS = ("tool", "delegate")
"""The step kinds a `parallel` group holds."""


def read_parallel(reader: Reader, doc: LineDict, where: str, member: str | None) -> Parallel | None:
    items = doc["parallel"]
    if not isinstance(items, LineList) or not items:
        reader.problem(line_of(doc, "parallel"), f"{where}.parallel: expected a list of tool and delegate steps")
        return None
    kinds = {kind.key: kind for kind in STEPS if kind.key in CALL_KINDS}
    calls: list[ToolCall | Delegation] = []
    for index, item in enumerate(items):
        line = line_of(items, index)
        call_where = f"{where}.parallel[{index}]"
        found = [key for key in CALL_KINDS if key in item] if isinstance(item, LineDict) else []
        if not isinstance(item, LineDict) or len(found) != 1:
            shown = ", ".join(k for k in item if isinstance(k, str)) if isinstance(item, LineDict) else repr(item)
            reader.problem(
                line, f"{call_where}: not a call ({shown}); expected a mapping with one of the keys tool, delegate"
            )
            continue
        kind = kinds[found[0]]
        reader.known_keys(item, kind.allowed, call_where)
        call = kind.read(reader, item, call_where, member)
        if isinstance(call, (ToolCall, Delegation)):
            calls.append(call)
    return Parallel(calls=tuple(calls), delay=reader.duration(doc, "delay", where)) if calls else None


_STEPS_SCHEMA = {"type": "array", "items": {"$ref": "#/$defs/step"}}

STEPS: tuple[StepKind, ...] = (
    StepKind(
        "event",
        read_event,
        {"event": {"enum": sorted(EVENTS)}, "member": {"type": "string"}, "delay": DURATION_SCHEMA},
        "One AgentOS event; any other key goes on the wire as given",
        open=True,
        names=EVENTS,
    ),
    StepKind(
        "text",
        read_text,
        {
            "text": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]},
            "pace": PACE_SCHEMA,
            "delay": DURATION_SCHEMA,
        },
        "A whole answer, streamed as content deltas",
    ),
    StepKind(
        "tool",
        read_tool,
        {
            "tool": {"type": "string"},
            "args": {"type": "object"},
            "result": {},
            "error": {"type": "boolean"},
            "duration": DURATION_SCHEMA,
            "delay": DURATION_SCHEMA,
            "description": {"type": "string", "description": "The tool's description in /teams and /agents"},
        },
        "A tool call: Started, then Completed with the result",
    ),
    StepKind(
        "reasoning",
        read_reasoning,
        {
            "reasoning": {
                "type": "array",
                "items": {
                    "oneOf": [
                        {"type": "string"},
                        {
                            "type": "object",
                            "required": ["title"],
                            "additionalProperties": False,
                            "properties": _REASONING_STEP,
                        },
                    ]
                },
            },
            "delay": DURATION_SCHEMA,
        },
        "Reasoning steps shown before the answer",
    ),
    StepKind(
        "delegate",
        read_delegate,
        {"delegate": {"type": "string"}, "task": {"type": "string"}, "events": _STEPS_SCHEMA, "delay": DURATION_SCHEMA},
        "Hand a task to a member; its events stream inside the team run",
        required=("task",),
    ),
    StepKind(
        "parallel",
        read_parallel,
        {
            "parallel": {
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/$defs/call"},
            },
            "delay": DURATION_SCHEMA,
        },
        "Calls one model response makes at once: every Started, the member runs interleaved, every Completed",
    ),
)
STEP_KINDS = tuple(kind.key for kind in STEPS)
