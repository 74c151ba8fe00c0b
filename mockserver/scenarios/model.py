"""The scenario model: what a YAML file says, as plain frozen data.

The loader (`loader.py`) builds these and is the only place that knows YAML or line numbers;
the planner (`plan.py`) turns a `Scenario` into timed frames.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from mockserver.scenarios.faultrules import FaultRule

PaceUnit = Literal["words", "tokens"]


@dataclass(frozen=True)
class ModelInfo:
    id: str = "gpt-4o"
    provider: str = "OpenAI"


@dataclass(frozen=True)
class Pace:
    """How a whole text is cut into deltas and how fast they come.

    `chunk_gap` is the time between two deltas; `unit` says whether a delta is a word or a
    model-like token (a few characters).
    """

    unit: PaceUnit = "words"
    chunk_gap: float = 0.05


@dataclass(frozen=True)
class Timing:
    """Time before each event: `gap` unless the event sets its own `delay`, plus seeded jitter."""

    gap: float = 0.05
    jitter: float = 0.0


@dataclass(frozen=True)
class RawEvent:
    """One AgentOS event named by its type; `fields` go on the wire as given."""

    event: str
    fields: dict[str, Any]
    member: str | None = None
    delay: float | None = None


@dataclass(frozen=True)
class Text:
    """An answer streamed as content deltas (`TeamRunContent`, or `RunContent` in a member).

    A string is cut into deltas by `pace`; a tuple of strings is sent as exactly those deltas.
    """

    text: str | tuple[str, ...]
    pace: Pace | None = None
    delay: float | None = None


@dataclass(frozen=True)
class ToolCall:
    """A tool the team (or a member) calls: Started then Completed with the full `tool` object."""

    name: str
    args: dict[str, Any]
    result: Any = None
    error: bool = False
    duration: float = 0.0
    delay: float | None = None
    description: str = ""
    """What `/teams` and `/agents` list as the tool's description (agno takes the docstring)."""


@dataclass(frozen=True)
class ReasoningStep:
    title: str
    reasoning: str = ""
    action: str | None = None
    result: str | None = None
    confidence: float | None = None
    next_action: str = "continue"


@dataclass(frozen=True)
class Reasoning:
    """Reasoning steps shown before the answer (`TeamReasoningStarted`, `…Step`, `…Completed`)."""

    steps: tuple[ReasoningStep, ...]
    delay: float | None = None


@dataclass(frozen=True)
class Delegation:
    """The leader hands a task to a member, whose own run streams inside the team run."""

    member: str
    task: str
    steps: tuple[Step, ...]
    delay: float | None = None


@dataclass(frozen=True)
class Parallel:
    """Calls one model response makes at once: every Started first, the member runs interleaved,
    then every Completed in call order (agno's `arun_function_calls`)."""

    calls: tuple[ToolCall | Delegation, ...]
    delay: float | None = None


Step = RawEvent | Text | ToolCall | Reasoning | Delegation | Parallel


@dataclass(frozen=True)
class Scenario:
    name: str
    steps: tuple[Step, ...]
    match: re.Pattern[str] | None = None
    timing: Timing = field(default_factory=Timing)
    pace: Pace = field(default_factory=Pace)
    model_requests: bool = True
    where: str = ""


@dataclass(frozen=True)
class Member:
    id: str
    name: str
    role: str = ""
    model: ModelInfo | None = None


@dataclass(frozen=True)
class Team:
    id: str
    name: str
    scenarios: tuple[Scenario, ...]
    description: str = ""
    model: ModelInfo = field(default_factory=ModelInfo)
    members: tuple[Member, ...] = ()
    source: str = ""
    faults: tuple[FaultRule, ...] = ()
    sequence: tuple[str, ...] = ()
    """Scenario names played in turn, one per run, the last repeating; empty: chosen by `match`."""
    kind: str = "team"
    """`team`, or `agent` for a file with an `agent:` section: a stand-alone agent, no members."""

    def member(self, member_id: str) -> Member | None:
        return next((m for m in self.members if m.id == member_id), None)


@dataclass(frozen=True)
class ScenarioSet:
    """Every team the server knows, loaded from its folders and replaced whole on reload."""

    teams: dict[str, Team]
    directories: tuple[str, ...] = ()
    agents: dict[str, Team] = field(default_factory=dict)
    """The stand-alone agents (`kind == "agent"`), served under `/agents/{agent_id}`."""

    def runnable(self) -> dict[str, Team]:
        """Teams and agents together, for what treats both alike (fault rules)."""
        return {**self.agents, **self.teams}

    def listed(self) -> list[Team]:
        """The teams in the order a UI should offer them: those that answer first, the `error-*`
        kind (with fault rules) after, so a UI that picks the first team gets a working one."""
        return sorted(self.teams.values(), key=lambda team: bool(team.faults))

    def listed_agents(self) -> list[Team]:
        return sorted(self.agents.values(), key=lambda agent: bool(agent.faults))
