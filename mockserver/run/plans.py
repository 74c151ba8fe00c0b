"""Plans made once: every run of the same request plays the same plan, stamped (`run/stamp.py`).

Two runs of one team's scenario for the same message, user, form values, seed and speed get the
same frames but for their ids and times, which the plan holds as marks; so the plan is built on
the first such request and kept. A reloaded scenario is a new object, so its plans are new too;
the old ones age out. A request with uploads (whose echo and file templates are its own) or a
long message (a plan as big as the text, planned off the loop) is planned afresh every time.

A kept plan also keeps what its runs derive from it alike (`derived`: the journal's timeline
of a run that played it whole), so a thousand such runs hold one copy; and whoever holds on to
a kept plan (a stored run) is told when it goes (`hold`), to keep what it needs and let it go.

Bounded by the memory the kept plans hold (`--plan-cache-size`, estimated as `MEMORY_PER_BYTE`
times their stream's bytes), the least recently used going first; 0 keeps none.
"""

from __future__ import annotations

import json
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mockserver.run.plan import MEMORY_PER_BYTE, Plan, RunContext

T = TypeVar("T")


@dataclass
class _Kept:
    """A kept plan, what its runs derive from it alike, and who is to hear when it goes."""

    plan: Plan
    size: int
    derived: dict[str, Any] = field(default_factory=dict)
    holders: set[weakref.WeakMethod[Callable[[], None]]] = field(default_factory=set)
    """Held weakly, each leaving the set when its holder is gone: a plan every run hits stays
    kept for good, and its holders must not pile up."""


class PlanCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.held = 0
        """The estimated bytes of the kept plans."""
        self._plans: OrderedDict[Hashable, _Kept] = OrderedDict()
        self._by_plan: dict[int, _Kept] = {}
        """The same, by the id of each plan (kept, so the id stays its own)."""

    def __len__(self) -> int:
        return len(self._plans)

    def key(
        self, context: RunContext, *, speed: float, seed: int, max_deltas: int, long_message: int
    ) -> Hashable | None:
        """What a run's plan depends on, or None for a request planned afresh (and so not encoded for keeping)."""
        if self.max_bytes <= 0:
            return None
        if context.files or context.media or context.uploads or len(context.message) > long_message:
            return None
        # The plan holds its scenario and team, so while it is kept their ids stay theirs.
        return (
            id(context.scenario),
            id(context.team),
            context.message,
            context.user_id,
            _json(context.session_state),
            _json(context.metadata),
            speed,
            seed,
            max_deltas,
        )

    def get(self, key: Hashable) -> Plan | None:
        kept = self._plans.get(key)
        if kept is None:
            return None
        self._plans.move_to_end(key)
        return kept.plan

    def put(self, key: Hashable, plan: Plan) -> None:
        """Keep `plan`, whose frames carry their bytes (`wire/sse.py: encoded`), unless it is too big."""
        size = MEMORY_PER_BYTE * sum(len(frame.encoded or b"") for frame in plan.frames)
        if size > self.max_bytes or key in self._plans:
            return
        self._plans[key] = self._by_plan[id(plan)] = _Kept(plan, size)
        self.held += size
        while self.held > self.max_bytes:
            dropped = self._plans.popitem(last=False)[1]
            self.held -= dropped.size
            del self._by_plan[id(dropped.plan)]
            for holder in list(dropped.holders):
                let_go = holder()
                if let_go is not None:
                    let_go()

    def hold(self, plan: Plan, let_go: Callable[[], None]) -> bool:
        """Call `let_go` (a bound method, held weakly) when the kept `plan` goes; False if it is not kept."""
        kept = self._by_plan.get(id(plan))
        if kept is None:
            return False
        kept.holders.add(weakref.WeakMethod(let_go, kept.holders.discard))
        return True

    def derived(self, plan: Plan, name: str, make: Callable[[], T]) -> T | None:
        """`make()` for the kept `plan`, made once and shared by its runs; None if it is not kept."""
        kept = self._by_plan.get(id(plan))
        if kept is None:
            return None
        if name not in kept.derived:
            kept.derived[name] = make()
        value: T = kept.derived[name]
        return value


def _json(value: object) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)
