"""The app's one piece of mutable state: settings, the current scenario set, shared helpers.

What a test can see or change lives in a `Space`: the journal, sessions, fault counters,
scenario overrides and teams added at runtime. A request picks its space with the
`X-Mock-Namespace` header (control routes also take `?namespace=`); without one it uses the
default space, which is what a server without namespaces has. Spaces past
`settings.max_namespaces` are dropped least recently used first, the default one never.
The journals of all spaces together stay within `settings.max_journal_bytes`, their sessions
within `settings.max_store_size` and their fault counters within `settings.max_fault_counters`:
past any of them, the least recently used space's oldest go first, so a hundred namespaces
cost what one may.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from mockserver.agentos.sessions import SessionStore
from mockserver.control.journal import Journal
from mockserver.run.background import BackgroundRuns
from mockserver.run.live import LiveRuns
from mockserver.run.plans import PlanCache
from mockserver.run.shutdown import Stopping
from mockserver.scenarios.model import ScenarioSet, Team
from mockserver.settings import Settings

DEFAULT_SPACE = ""
SPACE_PARTS: tuple[str, ...] = ("journal", "sessions", "counters", "overrides", "scenarios")
"""What `POST /__mock/reset` clears; `{"only": [...]}` names some of them."""


class Bounded(Protocol):
    """A journal, a session store or fault counters: how many it holds, and what they weigh
    (estimated bytes, or their number)."""

    @property
    def weight(self) -> int: ...

    def __len__(self) -> int: ...

    def drop_oldest(self) -> bool: ...


@dataclass
class Override:
    """`PUT /__mock/teams/{id}/scenario`: these scenario names, in turn (the last repeating),
    for `times` more runs (None: until reset)."""

    names: tuple[str, ...]
    times: int | None = None
    played: int = 0


@dataclass
class Space:
    name: str
    journal: Journal
    sessions: SessionStore
    fault_counts: dict[tuple[str, str, str], int] = field(default_factory=dict)
    overrides: dict[str, Override] = field(default_factory=dict)
    sequence_positions: dict[str, int] = field(default_factory=dict)
    """How far each team's YAML `sequence:` has got."""
    teams: dict[str, Team] = field(default_factory=dict)
    """Teams added by `POST /__mock/scenarios`; they hide a loaded team of the same id."""
    team_sizes: dict[str, int] = field(default_factory=dict)
    """The bytes of the YAML each added team came from (`--max-added-size`, all spaces together)."""

    def clear(self, parts: tuple[str, ...] = SPACE_PARTS) -> None:
        if "journal" in parts:
            self.journal.clear()
        if "sessions" in parts:
            self.sessions.clear()
        if "counters" in parts:
            self.fault_counts.clear()
            self.sequence_positions.clear()
        if "overrides" in parts:
            self.overrides.clear()
        if "scenarios" in parts:
            self.teams.clear()
            self.team_sizes.clear()


@dataclass
class ReloadResult:
    """The last hot reload: when, whether it loaded, and every problem as file:line."""

    at: datetime
    ok: bool
    problems: tuple[str, ...] = ()


def session_store(settings: Settings) -> SessionStore:
    """A space's session store, bounded as the settings say (README: Hostile input)."""
    return SessionStore(
        settings.max_sessions,
        max_runs=settings.max_session_runs,
        max_bytes=settings.max_session_bytes,
    )


@dataclass
class AppState:
    settings: Settings
    scenarios: ScenarioSet
    faker: Any
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    fault_counts: dict[tuple[str, str, str], int] = field(default_factory=dict)
    """The default space's (`space()`); a request's are `space_of(request).fault_counts`."""
    sessions: SessionStore = field(default_factory=SessionStore)
    """The default space's; a request's are `space_of(request).sessions`."""
    live_runs: LiveRuns = field(default_factory=LiveRuns)
    background_runs: BackgroundRuns = field(default_factory=lambda: BackgroundRuns(100))
    """The buffers of `background=true` runs, read by `/resume`."""
    stopping: Stopping = field(default_factory=Stopping)
    plans: PlanCache = field(default_factory=lambda: PlanCache(0))
    """Plans made once per request shape (`--plan-cache-size`); filled in `__post_init__`."""
    last_reload: ReloadResult | None = None
    spaces: OrderedDict[str, Space] = field(default_factory=OrderedDict)

    def __post_init__(self) -> None:
        self.plans = PlanCache(self.settings.plan_cache_size)
        default = Space(DEFAULT_SPACE, Journal(self.settings.journal_size), self.sessions, self.fault_counts)
        self.spaces[DEFAULT_SPACE] = default

    def space(self, name: str = DEFAULT_SPACE) -> Space:
        """The space called `name`, made on first use."""
        space = self.spaces.get(name)
        if space is None:
            space = Space(name, Journal(self.settings.journal_size), session_store(self.settings))
            self.spaces[name] = space
            while len(self.spaces) > self.settings.max_namespaces + 1:
                oldest = next(n for n in self.spaces if n != DEFAULT_SPACE)
                del self.spaces[oldest]
        else:
            self.spaces.move_to_end(name)
        return space

    def bound_journals(self, current: Space) -> None:
        """After an entry was added to `current`'s journal: all journals within their bytes."""
        _within(self.settings.max_journal_bytes, [space.journal for space in self._by_use(current)])

    def bound_sessions(self, current: Space) -> None:
        """After a run was stored in `current`'s sessions: all stores within their bytes."""
        _within(self.settings.max_store_size, [space.sessions for space in self._by_use(current)])

    def bound_counters(self, current: Space) -> None:
        """After `current`'s fault counters counted: all counters within their number."""
        _within(self.settings.max_fault_counters, [_Counters(space.fault_counts) for space in self._by_use(current)])

    def added_size(self) -> int:
        """The bytes of YAML of the teams added in all spaces."""
        return sum(sum(space.team_sizes.values()) for space in self.spaces.values())

    def _by_use(self, current: Space) -> list[Space]:
        """The spaces least recently used first, `current` last (a run's space may be gone)."""
        return [space for space in self.spaces.values() if space is not current] + [current]

    def teams(self, space: Space) -> dict[str, Team]:
        """The loaded teams, with those `space` added at runtime over them."""
        if not space.teams:
            return self.scenarios.teams
        return {**self.scenarios.teams, **space.teams}


class _Counters:
    """A space's fault counters as `Bounded`, the least recently counted first."""

    def __init__(self, counts: dict[tuple[str, str, str], int]) -> None:
        self.counts = counts

    @property
    def weight(self) -> int:
        return len(self.counts)

    def __len__(self) -> int:
        return len(self.counts)

    def drop_oldest(self) -> bool:
        if not self.counts:
            return False
        del self.counts[next(iter(self.counts))]
        return True


def _within(limit: int, parts: Sequence[Bounded]) -> None:
    """Drop the oldest of `parts`, the first part first, until their weights fit in `limit`; the
    last part keeps its newest (the entry, session or counter just added)."""
    total = sum(part.weight for part in parts)
    for part in parts:
        floor = 1 if part is parts[-1] else 0
        while total > limit and len(part) > floor:
            before = part.weight
            part.drop_oldest()
            total -= before - part.weight
        if total <= limit:
            return
