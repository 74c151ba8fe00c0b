"""The expander: a scenario turned into the timed AgentOS frames of one run, nothing of HTTP.

`build_plan` walks the scenario's steps once, expands the shorthands (`text`, `tool`,
`delegate`, `parallel`, `reasoning`) into the AgentOS events a real team emits, fills every envelope, and
stamps each frame with its offset from the stream's start. The same plan feeds the SSE stream
and the non-streamed JSON, so the two never disagree.
"""

from __future__ import annotations

import functools
import random
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from mockserver.agentos.events import EVENTS, MEMBER_ENVELOPE, TEAM_ENVELOPE, TOOL_KEYS
from mockserver.agentos.fold import RunFold
from mockserver.run.plan import Frame, Plan, RunContext, seed_for
from mockserver.run.stamp import CLOSE, OPEN, ascii_json, created_at, drawn_id, moment, shape_of
from mockserver.scenarios import templates
from mockserver.scenarios.model import (
    Delegation,
    Member,
    Pace,
    Parallel,
    RawEvent,
    Reasoning,
    Step,
    Text,
    ToolCall,
)

# The mock's own key on TeamRunStarted (and last in the stream=false JSON) listing the uploads.
UPLOADS_KEY = "mock_uploads"
TERMINAL_EVENTS = frozenset({"TeamRunCompleted", "TeamRunError", "RunCompleted", "RunError"})
"""Events that end a run: the team's, or a stand-alone agent's own (never a member's, which has a parent)."""
_WORDS = re.compile(r"\S+\s*|\s+")
_TOKENS = re.compile(r"\s*(?:\ue000[^\ue001\s]*\ue001|\S){1,5}|\s+")
"""Short tokens; a mark (`run/stamp.py`, from `{{ run_id }}`) counts as one character, so it is never cut."""
_SPACE = re.compile(r"\s+")


def build_plan(
    context: RunContext, *, speed: float = 1.0, seed: int = 0, faker: Any = None, max_deltas: int | None = None
) -> Plan:
    """The plan of every run of `context`'s request: its own ids and times are marks (`run/stamp.py`)."""
    rng = random.Random(seed_for(seed, context.team.id, context.message))
    if faker is not None:
        faker.seed_instance(rng.getrandbits(64))
    planner = _Planner(shape_of(context), speed=speed, rng=rng, faker=faker, max_deltas=max_deltas)
    return planner.run()


def split_text(text: str, pace: Pace, most: int | None = None) -> list[str]:
    """Deltas that join back to exactly `text`: words with their trailing space, or short tokens,
    none of which contains the one before it (see `no_repeats`).

    Never more than `most`: a longer text (a 1 MB message echoed back) streams as that many
    longer deltas, so its cost follows its size, not its word count.
    """
    if most is not None and len(text) > most * 8:
        return no_repeats(_long_deltas(text, most))
    pattern = _WORDS if pace.unit == "words" else _TOKENS
    deltas = pattern.findall(text) or [text]
    if most is not None and len(deltas) > most:
        per = -(-len(deltas) // most)
        deltas = ["".join(deltas[i : i + per]) for i in range(0, len(deltas), per)]
    return no_repeats(deltas)


def no_repeats(deltas: list[str]) -> list[str]:
    """Join each delta that contains the one before it onto that one.

    agent-ui removes the previous delta from each new one (`content.replace(lastContent, '')` in
    `useAIStreamHandler`), so a delta holding the one before loses text mid-stream: a markdown
    table cut into "|\n" then "|---|---|---|\n" showed as raw pipes until TeamRunCompleted.
    """
    out: list[str] = []
    for delta in deltas:
        out.append(delta)
        while len(out) > 1 and out[-2] and out[-2] in out[-1]:
            last = out.pop()
            out[-1] += last
    return out


def _long_deltas(text: str, most: int) -> list[str]:
    """At most `most` slices of `text`, each cut after the first space past its share (no word list built)."""
    size = -(-len(text) // most)
    deltas = []
    start = 0
    while start < len(text):
        cut = start + size
        if cut >= len(text):
            deltas.append(text[start:])
            break
        space = _SPACE.search(text, cut, cut + size)
        end = space.end() if space else cut
        opened = text.rfind(OPEN, start, end)
        if opened != -1 and text.find(CLOSE, opened, end) == -1:  # never cut inside a mark
            end = text.find(CLOSE, end) + 1 or len(text)
        deltas.append(text[start:end])
        start = end
    return deltas


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
    def __init__(
        self, context: RunContext, *, speed: float, rng: random.Random, faker: Any, max_deltas: int | None = None
    ) -> None:
        self.context = context
        self.max_deltas = max_deltas
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
        self.recorded_runs: dict[str, _MemberRun] = {}
        self.ids = _IdMap()
        self.head = 0.0
        self.agent = self.team.kind == "agent"
        self.drawn = 0
        self.envelopes: dict[tuple[bool, str | None], tuple[dict[str, Any], frozenset[str]]] = {}

    def named(self, base: str, member: _MemberRun | None) -> str:
        """The event's name: a member's or an agent's (`RunContent`), or the team's (`TeamRunContent`)."""
        return base if member is not None or self.agent else f"Team{base}"

    # -- time -------------------------------------------------------------------------------

    def wait(self, delay: float | None) -> None:
        """Move the cursor by `delay` (None: the scenario gap) plus seeded jitter, over speed.

        The first frame is due at once: its own `delay` (a recorded server's time to its
        response head) is a wait before the head instead. A delay of 0 means at once, without jitter.
        """
        if not self.frames:
            if delay:
                self.head += delay / self.speed if self.speed > 0 else 0.0
            return
        timing = self.scenario.timing
        seconds = timing.gap if delay is None else delay
        if seconds > 0 and timing.jitter:
            seconds += self.rng.uniform(0, timing.jitter)
        self.cursor += seconds / self.speed if self.speed > 0 else 0.0

    def wait_since(self, since: float, delay: float | None) -> float:
        """`wait` counted from `since`: a tool that ran while other member runs went on ends
        when it is due, or at once if that time has passed. Returns when it was due."""
        now = self.cursor
        self.cursor = since
        self.wait(delay)
        due = self.cursor
        self.cursor = max(due, now)
        return due

    def draw(self) -> str:
        """A new id of the run's own (a member run's, a message's)."""
        self.drawn += 1
        return drawn_id(self.drawn)

    # -- frames -----------------------------------------------------------------------------

    def emit(
        self, name: str, fields: dict[str, Any], member: _MemberRun | None = None, delay: float | None = None
    ) -> dict[str, Any]:
        self.wait(delay)
        spec = EVENTS[name]
        head, envelope_keys = self.envelope(spec.member, member)
        model = self.team.model if member is None else member.member.model or self.team.model
        data = {"created_at": created_at(self.cursor), "event": name, **head}
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
                envelope.update(
                    agent_id=member.member.id,
                    agent_name=member.member.name,
                    run_id=member.run_id,
                    parent_run_id=self.context.run_id,
                )
            elif self.agent:  # a stand-alone agent's own run: the member envelope without a parent
                envelope.update(agent_id=self.team.id, agent_name=self.team.name)
            keys = (MEMBER_ENVELOPE if member_event else TEAM_ENVELOPE)[2:]
            head = {k: envelope[k] for k in keys if k in envelope}
            built = self.envelopes[key] = (head, frozenset(envelope) | {"created_at", "event"})
        return built

    def render(self, value: Any) -> Any:
        return templates.render_value(value, self.template_context)

    # -- the run ----------------------------------------------------------------------------

    def run(self) -> Plan:
        steps = self.scenario.steps
        started_event = self.named("RunStarted", None)
        if not (isinstance(steps[0], RawEvent) and steps[0].event == started_event):
            self.emit(started_event, {})
        self.steps(steps, None)
        last = self.frames[-1] if self.frames else None
        if not (last is not None and last.event in TERMINAL_EVENTS and "parent_run_id" not in last.data):
            self.complete(RawEvent(self.named("RunCompleted", None), {}), None)
        if self.context.uploads:
            started = next((f for f in self.frames if f.event == started_event), None)
            if started is not None:
                started.data[UPLOADS_KEY] = list(self.context.uploads)
        return Plan(self.context, tuple(self.frames), tuple(self.member_responses), head=self.head)

    def steps(self, steps: tuple[Step, ...], member: _MemberRun | None) -> None:
        for _ in self.turns(steps, member):
            pass

    def turns(self, steps: tuple[Step, ...], member: _MemberRun | None) -> Iterator[None]:
        """Plays `steps`, pausing (a `yield`) wherever the run awaits a tool: there the other
        member runs of a `parallel` group take their turn, as agno's concurrent tasks do."""
        for step in steps:
            if isinstance(step, RawEvent):
                self.raw(step, member)
            elif isinstance(step, Text):
                self.text(step, member)
            elif isinstance(step, (ToolCall, Delegation, Parallel)):
                # One model request per model response: agno asks the model again after each
                # response's calls, so calls listed one after another each get their own.
                if self.scenario.model_requests:
                    self.emit(self.named("ModelRequestStarted", member), {}, member, step.delay)
                    self.emit(self.named("ModelRequestCompleted", member), self.usage(1), member)
                calls = step.calls if isinstance(step, Parallel) else (step,)
                yield from self.calls(calls, member, 0.0 if self.scenario.model_requests else step.delay)
            elif isinstance(step, Reasoning):
                self.reasoning(step, member)

    def calls(
        self, calls: tuple[ToolCall | Delegation, ...], member: _MemberRun | None, delay: float | None
    ) -> Iterator[None]:
        """The calls of one model response, as `arun_function_calls` runs them: every Started,
        the calls at once, then every Completed in call order."""
        under_way = [self.start_call(call, member, delay if index == 0 else 0.0) for index, call in enumerate(calls)]
        yield from _interleave([self.call_body(call) for call in under_way])
        for call in under_way:
            self.finish_call(call)

    def start_call(self, step: ToolCall | Delegation, member: _MemberRun | None, delay: float | None) -> _Call:
        if isinstance(step, ToolCall):
            name, args, result = step.name, self.render(step.args), self.render(step.result)
        else:
            name, args, result = (
                "delegate_task_to_member",
                {"member_id": step.member, "task": self.render(step.task)},
                None,
            )
        tool = self.tool_object(name, args)
        self.emit(self.named("ToolCallStarted", member), {"tool": dict(tool)}, member, delay)
        return _Call(
            step=step, member=member, tool=tool, args=args, result=result, since=self.cursor, start=self.cursor
        )

    def call_body(self, call: _Call) -> Iterator[None]:
        """What runs between a call's Started and Completed: a tool is awaited; a delegation
        is the member's whole run."""
        step = call.step
        if isinstance(step, ToolCall):
            yield
            return
        run = call.run = self.member_run(step.member)
        self.emit("RunStarted", {}, run)
        yield from self.turns(step.steps, run)
        content = "".join(self.fold.members[run.run_id].text)
        self.emit(
            "RunCompleted",
            {
                "content": content,
                "content_type": "str",
                "session_state": member_session_state(self.context, run.run_id),
                **({"metadata": self.context.metadata} if self.context.metadata is not None else {}),
                "metrics": self.member_metrics(run),
            },
            run,
        )
        self.member_responses.append(self.member_response(run, call.args["task"], content))
        call.result = content
        call.end = self.cursor

    def finish_call(self, call: _Call) -> None:
        step = call.step
        if isinstance(step, ToolCall):
            end = self.wait_since(call.since, step.duration or None)
            finished = self.finish_tool(call.tool, call.result, step.error, call.start, end)
        else:
            end = self.cursor if call.end is None else call.end
            finished = self.finish_tool(call.tool, call.result, False, call.start, end)
            finished["child_run_id"] = call.run.run_id if call.run is not None else None
        name = self.named("ToolCallCompleted", call.member)
        self.emit_tool_completed(name, finished, finished["tool_name"], call.args, end - call.start, call.member)

    def raw(self, step: RawEvent, member: _MemberRun | None) -> None:
        if step.event == self.named("RunCompleted", None) and member is None and step.member is None:
            self.complete(step, member)
            return
        if step.member is not None and member is None:
            member = self.replayed_member_run(step.member, step.event == "RunStarted", step.fields.get("run_id"))
        error = step.event == self.named("RunError", None)
        self.learn_ids(step.fields, None if error else member)
        fields = self.ids.rewrite(self.render(step.fields))
        if step.event == self.named("RunCancelled", None) and step.member is None:
            fields.setdefault("content", "".join(self.fold.team_text))
            fields.setdefault("reason", f"Run {self.context.run_id} was cancelled")
        self.emit(step.event, fields, None if error else member, step.delay)

    def learn_ids(self, fields: dict[str, Any], member: _MemberRun | None) -> None:
        """Map the run and session ids a recorded event carries to this replay's own."""
        self.ids.add(fields.get("session_id"), self.context.session_id)
        if member is None:
            self.ids.add(fields.get("run_id"), self.context.run_id)
        else:
            self.ids.add(fields.get("run_id"), member.run_id)
            self.ids.add(fields.get("parent_run_id"), self.context.run_id)

    def complete(self, step: RawEvent, member: _MemberRun | None) -> None:
        self.wait(step.delay)
        self.learn_ids(step.fields, None)
        fields = self.ids.rewrite(self.render(step.fields))
        fields.setdefault("content", "".join(self.fold.team_text))
        fields.setdefault("content_type", "str")
        if self.agent:
            fields.setdefault("session_state", {})
        if self.reasoning_steps:
            fields.setdefault("reasoning_steps", self.reasoning_steps)
        for key, value in run_extras(self.context).items():
            fields.setdefault(key, value)
        if self.member_responses:
            fields.setdefault("member_responses", self.member_responses)
        fields.setdefault("metrics", self.metrics())
        self.emit(self.named("RunCompleted", None), fields, None, 0.0)

    def metrics(self) -> dict[str, Any]:
        duration = max(self.cursor, 1e-6)
        first = self.fold.first_content_at if self.fold.first_content_at is not None else duration
        return {
            "time_to_first_token": round(first, 6),
            "duration": round(duration, 6),
            **model_details(self.team.model),
        }

    def member_metrics(self, run: _MemberRun) -> dict[str, Any]:
        """A member run's metrics: time to its first `RunContent`, duration, the model it used."""
        duration = max(self.cursor - run.started, 1e-6)
        first = next(
            (f.at - run.started for f in self.frames if f.event == "RunContent" and f.data.get("run_id") == run.run_id),
            duration,
        )
        model = run.member.model or self.team.model
        return {"time_to_first_token": round(first, 6), "duration": round(duration, 6), **model_details(model)}

    def text(self, step: Text, member: _MemberRun | None) -> None:
        pace = step.pace or self.scenario.pace
        if isinstance(step.text, str):
            deltas = split_text(self.render(step.text), pace, self.max_deltas)
        else:
            deltas = [self.render(chunk) for chunk in step.text]
        content_event = self.named("RunContent", member)
        delay = step.delay
        requested_at = self.cursor
        if self.scenario.model_requests:
            self.emit(self.named("ModelRequestStarted", member), {}, member, delay)
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
            self.emit(self.named("ModelRequestCompleted", member), usage, member)
            self.emit(self.named("RunContentCompleted", member), {}, member)

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

    def emit_tool_completed(
        self,
        name: str,
        tool: dict[str, Any],
        tool_name: str,
        args: dict[str, Any],
        duration: float,
        member: _MemberRun | None,
    ) -> None:
        self.emit(name, {"content": tool_summary(tool_name, args, duration), "tool": tool}, member, 0.0)

    def tool_object(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        tool: dict[str, Any] = {key: None for key in TOOL_KEYS}
        tool.update(
            tool_call_id=f"call_{self.rng.getrandbits(96):024x}",
            tool_name=name,
            tool_args=args,
            stop_after_tool_call=False,
            created_at=created_at(self.cursor),
        )
        return tool

    @staticmethod
    def finish_tool(tool: dict[str, Any], result: Any, error: bool, start: float, end: float) -> dict[str, Any]:
        finished = dict(tool)
        finished.update(
            tool_call_error=error,
            result=result if isinstance(result, str) or result is None else ascii_json(result),
            metrics={"start_time": moment(start), "end_time": moment(end), "duration": round(end - start, 6)},
        )
        return finished

    def member_run(self, member_id: str) -> _MemberRun:
        member = self.team.member(member_id)
        assert member is not None, "the loader checks member ids"
        return _MemberRun(member=member, run_id=self.draw(), started=self.cursor)

    def replayed_member_run(self, member_id: str, starts: bool, recorded_id: Any = None) -> _MemberRun:
        """The member run a top-level member event belongs to: the one of its recorded `run_id`
        if it has one, else the member's latest; a `RunStarted` opens a new one."""
        if isinstance(recorded_id, str) and recorded_id in self.recorded_runs:
            return self.recorded_runs[recorded_id]
        run = self.replayed_runs.get(member_id)
        if run is None or starts:
            run = self.replayed_runs[member_id] = self.member_run(member_id)
        if isinstance(recorded_id, str):
            self.recorded_runs[recorded_id] = run
        return run

    def member_response(self, run: _MemberRun, task: str, content: str) -> dict[str, Any]:
        """The member's run as TeamRunCompleted and the JSON answer list it, keys in agno's order."""
        model = run.member.model or self.team.model
        created = created_at(self.cursor)
        folded = self.fold.members[run.run_id]
        tools = folded.tools
        metrics = self.member_metrics(run)
        messages = [
            chat_message("system", f"<your_role>\n{run.member.role}\n</your_role>", created, self.draw()),
            chat_message("user", task, created, self.draw(), **user_media(self.context.media)),
            *tool_turn(tools, created, folded.tool_responses, self.draw),
            chat_message(
                "assistant",
                content,
                created,
                self.draw(),
                metrics={"time_to_first_token": metrics["time_to_first_token"]},
            ),
        ]
        response: dict[str, Any] = {
            "run_id": run.run_id,
            "agent_id": run.member.id,
            "agent_name": run.member.name,
            "session_id": self.context.session_id,
            "parent_run_id": self.context.run_id,
        }
        if self.context.user_id is not None:
            response["user_id"] = self.context.user_id
        response.update(
            content=content,
            content_type="str",
            model=model.id,
            model_provider=model.provider,
            session_state=member_session_state(self.context, run.run_id),
            created_at=created,
            status="COMPLETED",
            metrics=metrics,
            messages=messages,
        )
        if self.context.metadata is not None:
            response["metadata"] = self.context.metadata
        response.update(tools=tools, input={"input_content": task, **self.context.media})
        return response

    def reasoning(self, step: Reasoning, member: _MemberRun | None) -> None:
        steps = [
            {
                key: value
                for key, value in (
                    ("title", self.render(s.title)),
                    ("action", self.render(s.action) if s.action else None),
                    ("result", self.render(s.result) if s.result else None),
                    ("reasoning", self.render(s.reasoning)),
                    ("next_action", s.next_action),
                    ("confidence", s.confidence),
                )
                if value is not None
            }
            for s in step.steps
        ]
        if member is None:
            self.reasoning_steps.extend(steps)
        self.emit(self.named("ReasoningStarted", member), {}, member, step.delay)
        for index, reasoning_step in enumerate(steps):
            shown = steps[: index + 1]
            self.emit(
                self.named("ReasoningStep", member),
                {
                    "content": reasoning_step,
                    "content_type": "ReasoningStep",
                    "reasoning_content": "\n".join(f"## {s['title']}\n{s.get('reasoning', '')}\n" for s in shown),
                    "extra_data": {"reasoning_steps": shown},
                },
                member,
            )
        self.emit(
            self.named("ReasoningCompleted", member),
            {
                "content": {"reasoning_steps": steps},
                "content_type": "ReasoningSteps",
                "extra_data": {"reasoning_steps": steps},
            },
            member,
        )


class _IdMap:
    """Recorded run and session ids and the replay's ids that stand for them.

    A recorded stream names its runs everywhere: envelopes, `child_run_id`, `member_responses`,
    `session_state`, a cancel's `reason`. Every string holding a known recorded id gets the
    replay's id instead, so the replay agrees with itself as the real stream did. Ids are UUIDs,
    so replacing them inside longer strings is safe.
    """

    def __init__(self) -> None:
        self.replay: dict[str, str] = {}
        self.pattern: re.Pattern[str] | None = None

    def add(self, recorded: Any, replay: str) -> None:
        if isinstance(recorded, str) and recorded and recorded != replay and recorded not in self.replay:
            self.replay[recorded] = replay
            self.pattern = re.compile("|".join(re.escape(key) for key in self.replay))

    def rewrite(self, value: Any) -> Any:
        pattern = self.pattern
        if pattern is None:
            return value
        if isinstance(value, str):
            return pattern.sub(lambda m: self.replay[m.group(0)], value) if pattern.search(value) else value
        if isinstance(value, list):
            return [self.rewrite(v) for v in value]
        if isinstance(value, dict):
            return {k: self.rewrite(v) for k, v in value.items()}
        return value


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


@dataclass
class _Call:
    """A call whose Started is sent; what its Completed will say is filled in as it runs."""

    step: ToolCall | Delegation
    member: _MemberRun | None
    tool: dict[str, Any]
    args: dict[str, Any]
    result: Any
    since: float
    """The cursor at its Started."""
    start: float
    run: _MemberRun | None = None
    end: float | None = None


_DONE = object()


def _interleave(bodies: list[Iterator[None]]) -> Iterator[None]:
    """Runs each body to its next pause in turn, as asyncio runs the tasks of one gather: a
    member run that awaits a tool lets the next go on. Pauses once a round, so that a run
    holding these calls pauses too."""
    pending = bodies
    while pending:
        pending = [body for body in pending if next(body, _DONE) is not _DONE]
        if pending:
            yield


def model_details(model: Any) -> dict[str, Any]:
    """The `details` agno adds to a run's metrics: the models the run called."""
    return {"details": {"model": [{"id": model.id, "provider": model.provider}]}}


def member_session_state(context: RunContext, run_id: str) -> dict[str, Any]:
    """A member run's session state: the run's own, then agno's `current_*` keys."""
    state = dict(context.session_state or {})
    if context.user_id is not None:
        state["current_user_id"] = context.user_id
    return {**state, "current_session_id": context.session_id, "current_run_id": run_id}


def run_extras(context: RunContext) -> dict[str, Any]:
    """The form's `session_state` and `metadata`, which agno echoes on the run's results."""
    extras: dict[str, Any] = {}
    if context.session_state is not None:
        extras["session_state"] = context.session_state
    if context.metadata is not None:
        extras["metadata"] = context.metadata
    return extras


def user_media(media: dict[str, Any]) -> dict[str, Any]:
    """A user message's media: as on the run input, except that agno's Message calls audio `audio`."""
    return {("audio" if key == "audios" else key): value for key, value in media.items()}


def tool_calls(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`tool_calls` of the assistant message that made these calls."""
    return [
        {
            "id": t["tool_call_id"],
            "type": "function",
            "function": {"name": t["tool_name"], "arguments": ascii_json(t["tool_args"])},
        }
        for t in tools
    ]


def tool_turn(
    tools: list[dict[str, Any]],
    created_at: int | str,
    responses: list[int] | None = None,
    new_id: Callable[[], str | None] = lambda: None,
) -> list[dict[str, Any]]:
    """For each model response that made calls (`responses` numbers the response of each tool;
    without it, one per call): the assistant message holding its calls, then a `tool` message
    with each result."""
    made_by = responses if responses is not None and len(responses) == len(tools) else list(range(len(tools)))
    messages = []
    for index, tool in enumerate(tools):
        if index == 0 or made_by[index] != made_by[index - 1]:
            same = [t for t, response in zip(tools, made_by, strict=True) if response == made_by[index]]
            messages.append(chat_message("assistant", None, created_at, new_id(), tool_calls=tool_calls(same)))
        messages.append(
            chat_message(
                "tool",
                tool["result"],
                created_at,
                new_id(),
                tool_call_id=tool["tool_call_id"],
                tool_name=tool["tool_name"],
                tool_args=tool["tool_args"],
                tool_call_error=tool["tool_call_error"],
            )
        )
    return messages


def chat_message(
    role: str, content: str | None, created_at: int | str, message_id: str | None = None, **extra: Any
) -> dict[str, Any]:
    """One entry of a run's `messages`, keys in agno's order; a new UUID unless `message_id` is given."""
    entry: dict[str, Any] = {"id": message_id or str(uuid.uuid4())}
    if content is not None:
        entry["content"] = content
    entry.update(from_history=False, stop_after_tool_call=False, role=role)
    entry.update(extra)
    entry["created_at"] = created_at
    return entry


def _named(base: str, member: _MemberRun | None) -> str:
    """The member event name (`RunContent`) or the team one (`TeamRunContent`)."""
    return base if member is not None else f"Team{base}"
