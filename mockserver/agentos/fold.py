"""The facts of a run, folded from its frames: the one reading every other module relies on.

Whatever a run did (played out, failed, was cut or cancelled), what it answered, which tools
and member runs it finished and how it ended follow from the frames it sent, read the way
agno reads its own events. The JSON answer, the session store, the cancel frames and the
expander's own `TeamRunCompleted` all take their facts from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mockserver.run.plan import Frame, Plan

MEMBER_ENDINGS = {"RunCompleted": "COMPLETED", "RunError": "ERROR", "RunCancelled": "CANCELLED"}


@dataclass
class _Responses:
    """Which model response made each call: a call that starts while others are under way came
    in the same response as they did (a `parallel` group), any other in a response of its own."""

    under_way: set[str] = field(default_factory=set)
    made_by: dict[str, int] = field(default_factory=dict)
    count: int = 0

    def started(self, tool: Any) -> None:
        call_id = tool.get("tool_call_id") if isinstance(tool, dict) else None
        if not isinstance(call_id, str):
            return
        if not self.under_way:
            self.count += 1
        self.under_way.add(call_id)
        self.made_by[call_id] = self.count

    def completed(self, tool: dict[str, Any]) -> int:
        call_id = tool.get("tool_call_id")
        if isinstance(call_id, str) and call_id in self.made_by:
            self.under_way.discard(call_id)
            return self.made_by[call_id]
        self.count += 1
        return self.count


@dataclass
class MemberRun:
    """One member agent's run inside the team run, as far as its frames went."""

    run_id: str
    started: Frame
    text: list[str] = field(default_factory=list)
    output: list[str] = field(default_factory=list)
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_responses: list[int] = field(default_factory=list)
    """The model response that made each of `tools` (see `_Responses`)."""
    status: str = "RUNNING"
    calls: _Responses = field(default_factory=_Responses)

    @property
    def finished(self) -> bool:
        return self.status != "RUNNING"


@dataclass
class RunFold:
    """Reads frames one at a time; `facts()` is what they add up to so far."""

    team_text: list[str] = field(default_factory=list)
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_responses: list[int] = field(default_factory=list)
    """The model response that made each of `tools` (see `_Responses`)."""
    calls: _Responses = field(default_factory=_Responses)
    members: dict[str, MemberRun] = field(default_factory=dict)
    reasoning_steps: list[dict[str, Any]] = field(default_factory=list)
    first_content_at: float | None = None
    completed: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    cancelled: dict[str, Any] | None = None
    frames: int = 0
    last_at: float = 0.0

    def add(self, frame: Frame) -> None:
        self.frames += 1
        self.last_at = frame.at
        data = frame.data
        # A member's events carry its parent's run id; a team's, or a stand-alone agent's own
        # (`RunContent` without the Team prefix), do not.
        if "parent_run_id" in data:
            self._member(frame)
            return
        event = frame.event if frame.event.startswith("Team") else f"Team{frame.event}"
        if event == "TeamRunContent":
            if isinstance(data.get("content"), str):
                self.team_text.append(data["content"])
                if self.first_content_at is None:
                    self.first_content_at = frame.at
        elif event == "TeamToolCallStarted":
            self.calls.started(data.get("tool"))
        elif event == "TeamToolCallCompleted":
            if isinstance(data.get("tool"), dict):
                self.tools.append(data["tool"])
                self.tool_responses.append(self.calls.completed(data["tool"]))
        elif event == "TeamReasoningCompleted":
            steps = (data.get("extra_data") or {}).get("reasoning_steps")
            self.reasoning_steps = list(steps) if isinstance(steps, list) else []
        elif event == "TeamRunCompleted":
            self.completed = data
        elif event == "TeamRunError":
            self.error = data
        elif event == "TeamRunCancelled":
            self.cancelled = data

    def _member(self, frame: Frame) -> None:
        data = frame.data
        run_id = data.get("run_id")
        if not isinstance(run_id, str):
            return
        if frame.event == "RunStarted":
            self.members[run_id] = MemberRun(run_id=run_id, started=frame)
            return
        member = self.members.get(run_id)
        if member is None:
            return
        if frame.event == "RunContent" and isinstance(data.get("content"), str):
            member.text.append(data["content"])
            member.output.append(data["content"])
        elif frame.event == "ToolCallStarted":
            member.calls.started(data.get("tool"))
        elif frame.event == "ToolCallCompleted":
            if isinstance(data.get("content"), str):
                member.output.append(data["content"])
            if isinstance(data.get("tool"), dict):
                member.tools.append(data["tool"])
                member.tool_responses.append(member.calls.completed(data["tool"]))
        elif frame.event in MEMBER_ENDINGS:
            member.status = MEMBER_ENDINGS[frame.event]

    @property
    def status(self) -> str:
        if self.error is not None:
            return "ERROR"
        if self.cancelled is not None:
            return "CANCELLED"
        return "COMPLETED" if self.completed is not None else "RUNNING"

    @property
    def content(self) -> Any:
        """What the run answered: the final content, the error, or the text streamed so far."""
        if self.completed is not None and "content" in self.completed:
            return self.completed["content"]
        if self.error is not None:
            return self.error.get("content", "")
        return "".join(self.team_text)

    @property
    def metrics(self) -> dict[str, Any]:
        reported = (self.completed or {}).get("metrics")
        if isinstance(reported, dict):
            return reported
        return {"duration": round(self.last_at, 6)}

    def members_under_way(self) -> list[MemberRun]:
        """The member runs started and not ended, in the order they started: one, or several
        under a `parallel` group."""
        return [m for m in self.members.values() if not m.finished]


def fold(frames: Iterable[Frame]) -> RunFold:
    folded = RunFold()
    for frame in frames:
        folded.add(frame)
    return folded


def member_responses(plan: Plan, facts: RunFold) -> list[dict[str, Any]]:
    """The member responses a run reports: those its `TeamRunCompleted` listed, else the
    planned responses of the member runs it finished."""
    if facts.completed is not None and "member_responses" in facts.completed:
        return list(facts.completed["member_responses"] or [])
    return [
        r for r in plan.member_responses if r.get("run_id") in facts.members and facts.members[r["run_id"]].finished
    ]
