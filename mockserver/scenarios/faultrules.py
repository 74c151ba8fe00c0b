"""Fault rules: what a `faults:` entry of a scenario file says, as plain frozen data.

A rule picks requests by team id (exact or glob) and optionally by a regular expression on the
message, may fire only sometimes (the first K requests, or with a seeded probability), and says
what goes wrong. The loader builds rules; `faults.py` decides which one fires and plays it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Literal

FlakyScope = Literal["team", "session"]


@dataclass(frozen=True)
class HttpFailure:
    """An error status instead of a run; `body` (when given) replaces the error-format body."""

    status: int
    detail: str | None = None
    body: Any = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RunError:
    """`TeamRunError` mid-stream (HTTP 200), as AgentOS sends it when the model raises."""

    content: str
    error_type: str = "RuntimeError"
    error_id: str | None = None


@dataclass(frozen=True)
class Drop:
    """The connection closes with no final frame and no terminating chunk."""


@dataclass(frozen=True)
class Stall:
    """Nothing but optional `: keep-alive` comments for `hold` seconds (None: until the client leaves)."""

    hold: float | None = None
    keep_alive: float | None = None


@dataclass(frozen=True)
class Cancel:
    """`TeamRunCancelled` then `TeamRunCompleted`, the pair a cancelled AgentOS run ends with."""


@dataclass(frozen=True)
class Slow:
    """The normal answer, late: the rule's `latency` (the value of `slow:`) before the head."""


Action = HttpFailure | RunError | Drop | Stall | Cancel | Slow


@dataclass(frozen=True)
class Cut:
    """Where a stream fault strikes: after `events` frames, or at `seconds` into the stream."""

    events: int | None = None
    seconds: float | None = None


@dataclass(frozen=True)
class FaultRule:
    """One `faults:` entry. `key` names it stably (counters and random draws hang off it)."""

    key: str
    action: Action
    teams: tuple[str, ...]
    kind: str = ""
    """The `faults:` key that made it (`stall`), as the run log and the journal name it."""
    match: re.Pattern[str] | None = None
    cut: Cut = field(default_factory=Cut)
    latency: float = 0.0
    times: int | None = None
    per: FlakyScope = "team"
    probability: float | None = None
    where: str = ""

    def covers(self, team_id: str) -> bool:
        return any(fnmatchcase(team_id, pattern) for pattern in self.teams)

    @property
    def always(self) -> bool:
        """Fires on every request to a team it covers (so later rules for that team never can)."""
        return self.match is None and self.times is None and self.probability is None
