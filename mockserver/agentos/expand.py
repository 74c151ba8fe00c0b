"""The expander: a scenario turned into the timed AgentOS frames of one run, nothing of HTTP.

`build_plan` walks the scenario's steps once, expands the shorthands (`text`, `tool`,
`delegate`, `reasoning`) into the AgentOS events a real team emits, fills every envelope, and
stamps each frame with its offset from the stream's start. The same plan feeds the SSE stream
and the non-streamed JSON, so the two never disagree.
"""

from __future__ import annotations

import functools
import json
import random
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from mockserver.agentos.events import EVENTS, MEMBER_ENVELOPE, TEAM_ENVELOPE, TOOL_KEYS
from mockserver.agentos.fold import RunFold
from mockserver.run.plan import Frame, Plan, RunContext, seed_for
from mockserver.scenarios import templates
from mockserver.scenarios.model import (
    Delegation,
    Member,
    Pace,
    RawEvent,
    Reasoning,
    Scenario,
    Step,
    Team,
    Text,
    ToolCall,
)

# The mock's own key on TeamRunStarted (and last in the stream=false JSON) listing the uploads.
UPLOADS_KEY = "mock_uploads"
TERMINAL_EVENTS = frozenset({"TeamRunCompleted", "TeamRunError"})
_WORDS = re.compile(r"\S+\s*|\s+")
_TOKENS = re.compile(r"\s*\S{1,5}|\s+")


def build_plan(context: RunContext, *, speed: float = 1.0, seed: int = 0, faker: Any = None) -> Plan:
    rng = random.Random(seed_for(seed, context.team.id, context.message))
    if faker is not None:
        faker.seed_instance(rng.getrandbits(64))
    planner = _Planner(context, speed=speed, rng=rng, faker=faker)
    return planner.run()


def split_text(text: str, pace: Pace) -> list[str]:
    """Deltas that join back to exactly `text`: words with their trailing space, or short tokens."""
    pattern = _WORDS if pace.unit == "words" else _TOKENS
    return pattern.findall(text) or [text]


def tool_summary(name: str, args: dict[str, Any], duration: float) -> str:
    """The `content` of a ToolCallCompleted, as agno's `get_call_str` words it on an 80-column server."""
    width = 80
    longest = max(20, (width - len(name) - 4) // 2)
    shown = ", ".join(f"{k}={'...' if isinstance(v, str) and len(v) > longest else v}" for k, v in args.items())
    call = f"{name}({shown})"
    if len(call) > width:
        call = f"{name}(...)"
    return f"{call} completed in {duration:.4f}s. "


class _Planner:
    def __init__(self, context: RunContext, *, speed: float, rng: random.Random, faker: Any) -> None:
        self.context = context
        self.scenario = context.scenario
        self.team = context.team
        self.speed = speed
        self.rng = rng
        self.frames: list[Frame] = []
        self.fold = RunFold()
        self.member_responses: list[dict[str, Any]] = []
        self.cursor = 0.0
        self.template_context = {
            "message": context.message,
            "session_id": context.session_id,
            "user_id": context.user_id or "",
            "run_id": context.run_id,
            "team": {"id": self.team.id, "name": self.team.name, "description": self.team.description},
            "faker": faker,
            "files": list(context.files),
            "file_count": len(context.files),
            "files_summary": templates.files_summary(context.files),
        }
        self.reasoning_steps: list[dict[str, Any]] = []
        self.replayed_runs: dict[str, _MemberRun] = {}
        self.envelopes: dict[tuple[bool, str | None], tuple[dict[str, Any], frozenset[str]]] = {}

    # -- time -------------------------------------------------------------------------------

    def wait(self, delay: float | None) -> None:
        """Move the cursor by `delay` (None: the scenario gap) plus seeded jitter, over speed.

        Nothing waits before the first frame, and a delay of 0 means at once, without jitter.
        """
        if not self.frames:
            return
        timing = self.scenario.timing
        seconds = timing.gap if delay is None else delay
        if seconds > 0 and timing.jitter:
            seconds += self.rng.uniform(0, timing.jitter)
        self.cursor += seconds / self.speed if self.speed > 0 else 0.0

    def wall(self) -> float:
        return self.context.started_at + self.cursor

    # -- frames -----------------------------------------------------------------------------

    def emit(self, name: str, fields: dict[str, Any], member: _MemberRun | None = None, delay: float | None = None) -> dict[str, Any]:
        self.wait(delay)
        spec = EVENTS[name]
        head, envelope_keys = self.envelope(spec.member, member)
        model = self.team.model if member is None else member.member.model or self.team.model
        data = {"created_at": int(self.wall()), "event": name, **head}
        for key, has_default, default in _layout(name, model.id, model.provider):
            if key in fields:
                data[key] = fields[key]
            elif has_default:
                data[key] = default
        for key, value in fields.items():
            if key not in data and key not in envelope_keys:
                data[key] = value
        frame = Frame(at=self.cursor, event=name, data=data)
        self.frames.append(frame)
        self.fold.add(frame)
        return data

    def envelope(self, member_event: bool, member: _MemberRun | None) -> tuple[dict[str, Any], frozenset[str]]:
        """The envelope keys after `created_at` and `event`, built once per run and member run;
        and every envelope key, which a frame's own fields never repeat."""
        key = (member_event, None if member is None else member.run_id)
        built = self.envelopes.get(key)
        if built is None:
            envelope = {
                "team_id": self.team.id,
                "team_name": self.team.name,
                "run_id": self.context.run_id,
                "session_id": self.context.session_id,
                "nested_depth": 0,
            }
            if member is not None:
                envelope.update(agent_id=member.member.id, agent_name=member.member.name, run_id=member.run_id,
                                parent_run_id=self.context.run_id)
            head = {k: envelope[k] for k in (MEMBER_ENVELOPE if member_event else TEAM_ENVELOPE)[2:]}
            built = self.envelopes[key] = (head, frozenset(envelope) | {"created_at", "event"})
        return built

    def render(self, value: Any) -> Any:
        return templates.render_value(value, self.template_context)

    # -- the run ----------------------------------------------------------------------------

    def run(self) -> Plan:
        steps = self.scenario.steps
        if not (isinstance(steps[0], RawEvent) and steps[0].event == "TeamRunStarted"):
            self.emit("TeamRunStarted", {})
        self.steps(steps, None)
        if not (self.frames and self.frames[-1].event in TERMINAL_EVENTS):
            self.complete(RawEvent("TeamRunCompleted", {}), None)
        if self.context.uploads:
            started = next((f for f in self.frames if f.event == "TeamRunStarted"), None)
            if started is not None:
                started.data[UPLOADS_KEY] = list(self.context.uploads)
        return Plan(self.context, tuple(self.frames), tuple(self.member_responses))

    def steps(self, steps: tuple[Step, ...], member: _MemberRun | None) -> None:
        previous: Step | None = None
        for step in steps:
            if isinstance(step, RawEvent):
                self.raw(step, member)
            elif isinstance(step, Text):
                self.text(step, member)
            elif isinstance(step, (ToolCall, Delegation)):
                if self.scenario.model_requests and not isinstance(previous, (ToolCall, Delegation)):
                    self.emit(_named("ModelRequestStarted", member), {}, member, step.delay)
                    self.emit(_named("ModelRequestCompleted", member), self.usage(1), member)
                if isinstance(step, ToolCall):
                    self.tool(step, member)
                else:
                    self.delegate(step)
            elif isinstance(step, Reasoning):
                self.reasoning(step, member)
            previous = step

    def raw(self, step: RawEvent, member: _MemberRun | None) -> None:
        fields = self.render(step.fields)
        if step.event == "TeamRunCompleted":
            self.complete(step, member)
            return
        if step.event == "TeamRunCancelled":
            fields.setdefault("content", "".join(self.fold.team_text))
            fields.setdefault("reason", f"Run {self.context.run_id} was cancelled")
        if step.member is not None and member is None:
            member = self.replayed_member_run(step.member, step.event == "RunStarted")
        self.emit(step.event, fields, None if step.event == "TeamRunError" else member, step.delay)

    def complete(self, step: RawEvent, member: _MemberRun | None) -> None:
        self.wait(step.delay)
        fields = self.render(step.fields)
        fields.setdefault("content", "".join(self.fold.team_text))
        fields.setdefault("content_type", "str")
        if self.reasoning_steps:
            fields.setdefault("reasoning_steps", self.reasoning_steps)
        if self.member_responses:
            fields.setdefault("member_responses", self.member_responses)
        fields.setdefault("metrics", self.metrics())
        self.emit("TeamRunCompleted", fields, None, 0.0)

    def metrics(self) -> dict[str, Any]:
        duration = max(self.cursor, 1e-6)
        first = self.fold.first_content_at if self.fold.first_content_at is not None else duration
        return {"time_to_first_token": round(first, 6), "duration": round(duration, 6)}

    def text(self, step: Text, member: _MemberRun | None) -> None:
        pace = step.pace or self.scenario.pace
        if isinstance(step.text, str):
            deltas = split_text(self.render(step.text), pace)
        else:
            deltas = [self.render(chunk) for chunk in step.text]
        content_event = "RunContent" if member is not None else "TeamRunContent"
        delay = step.delay
        requested_at = self.cursor
        if self.scenario.model_requests:
            self.emit(_named("ModelRequestStarted", member), {}, member, delay)
            requested_at = self.cursor
            delay = None
        first_at = None
        for index, delta in enumerate(deltas):
            self.wait(delay if index == 0 else pace.chunk_gap)
            first_at = self.cursor if first_at is None else first_at
            self.emit(content_event, {"content": delta}, member, 0.0)
        if self.scenario.model_requests:
            usage = self.usage(len(deltas))
            usage["time_to_first_token"] = round((first_at or self.cursor) - requested_at, 6)
            self.emit(_named("ModelRequestCompleted", member), usage, member)
            self.emit(_named("RunContentCompleted", member), {}, member)

    def usage(self, output_tokens: int) -> dict[str, Any]:
        """Token counts of one model request; a rough estimate, as no model counted them."""
        input_tokens = len(self.context.message) // 4 + 1
        return {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
            "reasoning_tokens": 0,
            "cache_read_tokens": 0,
            "cache_write_tokens": 0,
        }

    def tool(self, step: ToolCall, member: _MemberRun | None) -> None:
        name = _named("ToolCallStarted", member)
        args = self.render(step.args)
        result = self.render(step.result)
        tool = self.tool_object(step.name, args)
        self.emit(name, {"tool": dict(tool)}, member, 0.0 if self.scenario.model_requests else step.delay)
        start = self.wall()
        self.wait(step.duration or None)
        end = self.wall()
        finished = self.finish_tool(tool, result, step.error, start, end)
        self.emit_tool_completed(_named("ToolCallCompleted", member), finished, step.name, args, end - start, member)

    def emit_tool_completed(self, name: str, tool: dict[str, Any], tool_name: str, args: dict[str, Any], duration: float, member: _MemberRun | None) -> None:
        self.emit(name, {"content": tool_summary(tool_name, args, duration), "tool": tool}, member, 0.0)

    def tool_object(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        tool: dict[str, Any] = {key: None for key in TOOL_KEYS}
        tool.update(
            tool_call_id=f"call_{self.rng.getrandbits(96):024x}",
            tool_name=name,
            tool_args=args,
            stop_after_tool_call=False,
            created_at=int(self.wall()),
        )
        return tool

    @staticmethod
    def finish_tool(tool: dict[str, Any], result: Any, error: bool, start: float, end: float) -> dict[str, Any]:
        finished = dict(tool)
        finished.update(
            tool_call_error=error,
            result=result if isinstance(result, str) or result is None else json.dumps(result),
            metrics={"start_time": round(start, 6), "end_time": round(end, 6), "duration": round(end - start, 6)},
        )
        return finished

    def member_run(self, member_id: str) -> _MemberRun:
        member = self.team.member(member_id)
        assert member is not None, "the loader checks member ids"
        return _MemberRun(member=member, run_id=str(uuid.uuid4()), started=self.cursor)

    def replayed_member_run(self, member_id: str, starts: bool) -> _MemberRun:
        """The member run a top-level member event belongs to: a `RunStarted` opens a new one."""
        run = self.replayed_runs.get(member_id)
        if run is None or starts:
            run = self.replayed_runs[member_id] = self.member_run(member_id)
        return run

    def delegate(self, step: Delegation) -> None:
        task = self.render(step.task)
        args = {"member_id": step.member, "task": task}
        tool = self.tool_object("delegate_task_to_member", args)
        self.emit("TeamToolCallStarted", {"tool": dict(tool)}, None, 0.0 if self.scenario.model_requests else step.delay)
        start = self.wall()
        run = self.member_run(step.member)
        self.emit("RunStarted", {}, run)
        self.steps(step.steps, run)
        content = "".join(self.fold.members[run.run_id].text)
        self.emit("RunCompleted", {
            "content": content,
            "content_type": "str",
            "session_state": {"current_session_id": self.context.session_id, "current_run_id": run.run_id},
            "metrics": {"duration": round(self.wall() - start, 6)},
        }, run)
        self.member_responses.append(self.member_response(run, task, content))
        end = self.wall()
        finished = self.finish_tool(tool, content, False, start, end)
        finished["child_run_id"] = run.run_id
        self.emit_tool_completed("TeamToolCallCompleted", finished, "delegate_task_to_member", args, end - start, None)

    def member_response(self, run: _MemberRun, task: str, content: str) -> dict[str, Any]:
        """The member's run as TeamRunCompleted and the JSON answer list it, keys in agno's order."""
        model = run.member.model or self.team.model
        created_at = int(self.wall())
        messages = [
            chat_message("system", f"<your_role>\n{run.member.role}\n</your_role>", created_at),
            chat_message("user", task, created_at),
            chat_message("assistant", content, created_at),
        ]
        return {
            "run_id": run.run_id,
            "agent_id": run.member.id,
            "agent_name": run.member.name,
            "session_id": self.context.session_id,
            "parent_run_id": self.context.run_id,
            "content": content,
            "content_type": "str",
            "model": model.id,
            "model_provider": model.provider,
            "session_state": {"current_session_id": self.context.session_id, "current_run_id": run.run_id},
            "created_at": created_at,
            "status": "COMPLETED",
            "metrics": {"duration": round(self.cursor - run.started, 6)},
            "messages": messages,
            "tools": self.fold.members[run.run_id].tools,
            "input": {"input_content": task},
        }

    def reasoning(self, step: Reasoning, member: _MemberRun | None) -> None:
        steps = [
            {key: value for key, value in (
                ("title", self.render(s.title)),
                ("action", self.render(s.action) if s.action else None),
                ("result", self.render(s.result) if s.result else None),
                ("reasoning", self.render(s.reasoning)),
                ("next_action", s.next_action),
                ("confidence", s.confidence),
            ) if value is not None}
            for s in step.steps
        ]
        if member is None:
            self.reasoning_steps.extend(steps)
        self.emit(_named("ReasoningStarted", member), {}, member, step.delay)
        for index, reasoning_step in enumerate(steps):
            shown = steps[: index + 1]
            self.emit(_named("ReasoningStep", member), {
                "content": reasoning_step,
                "content_type": "ReasoningStep",
                "reasoning_content": "\n".join(f"## {s['title']}\n{s.get('reasoning', '')}\n" for s in shown),
                "extra_data": {"reasoning_steps": shown},
            }, member)
        self.emit(_named("ReasoningCompleted", member), {
            "content": {"reasoning_steps": steps},
            "content_type": "ReasoningSteps",
            "extra_data": {"reasoning_steps": steps},
        }, member)


@functools.cache
def _layout(event: str, model_id: str, model_provider: str) -> tuple[tuple[str, bool, Any], ...]:
    """An event's keys after the envelope, in order, each with whether agno sends it unset and its value then.

    The same for every run of every scenario with this model, so worked out once.
    """
    spec = EVENTS[event]
    defaults = {**dict(spec.defaults), "model": model_id, "model_provider": model_provider}
    return tuple((key, key in defaults, defaults.get(key)) for key in spec.fields)


@dataclass(frozen=True)
class _MemberRun:
    member: Member
    run_id: str
    started: float = 0.0


def chat_message(role: str, content: str | None, created_at: int, **extra: Any) -> dict[str, Any]:
    """One entry of a run's `messages`, keys in agno's order."""
    entry: dict[str, Any] = {"id": str(uuid.uuid4())}
    if content is not None:
        entry["content"] = content
    entry.update(from_history=False, stop_after_tool_call=False, role=role)
    entry.update(extra)
    entry["created_at"] = created_at
    return entry


def _named(base: str, member: _MemberRun | None) -> str:
    """The member event name (`RunContent`) or the team one (`TeamRunContent`)."""
    return base if member is not None else f"Team{base}"
