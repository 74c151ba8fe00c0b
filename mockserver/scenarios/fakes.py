"""`{{ faker.X }}` values: a seeded Faker whose draws are remembered per seed.

A run seeds Faker from its request (server seed, team, message), so every run of the same
request draws the same values in the same order. Faker's weighted providers (`name`, `url`,
`company`, `domain_name`) cost about 0.3 ms a call, most of the time a plan takes to build; the
values drawn after each seed are kept, so a repeated request replays them instead. Faker itself
is imported at the first draw, not when the server starts (it is a third of the start time).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from mockserver.scenarios.templates import FAKER_PROVIDERS

REMEMBERED_SEEDS = 256
"""Seeds whose values are kept (least recently used dropped first): a few hundred short strings each at most."""


class SeededFaker:
    """What templates call `faker`: `seed_instance(seed)`, then one method per provider in `FAKER_PROVIDERS`.

    Gives exactly what a `Faker()` seeded the same way would give for the same calls in the same
    order. Not shared between threads; a plan is built without awaiting, so runs never interleave.
    """

    def __init__(self, remembered: int = REMEMBERED_SEEDS) -> None:
        self._faker: Any = None
        self._remembered = remembered
        self._drawn: OrderedDict[int, list[tuple[str, Any]]] = OrderedDict()
        self._seed = 0
        self._values: list[tuple[str, Any]] = []
        self._position = 0
        self._live = False
        """Whether the real Faker has followed every draw since the seed (so it can draw the next)."""

    def seed_instance(self, seed: int) -> None:
        values = self._drawn.get(seed)
        if values is None:
            values = self._drawn[seed] = []
            if len(self._drawn) > self._remembered:
                self._drawn.popitem(last=False)
        else:
            self._drawn.move_to_end(seed)
        self._seed, self._values, self._position, self._live = seed, values, 0, False

    def draw(self, provider: str) -> Any:
        position = self._position
        self._position += 1
        values = self._values
        if not self._live and position < len(values) and values[position][0] == provider:
            return values[position][1]
        faker = self._real()
        if not self._live:
            # A new value (or the calls went another way): bring Faker to this point, then draw live.
            faker.seed_instance(self._seed)
            for name, _ in values[:position]:
                getattr(faker, name)()
            del values[position:]
            self._live = True
        value = getattr(faker, provider)()
        values.append((provider, value))
        return value

    def __getattr__(self, name: str) -> Callable[[], Any]:
        if name not in FAKER_PROVIDERS:
            raise AttributeError(name)
        return lambda: self.draw(name)

    def _real(self) -> Any:
        if self._faker is None:
            from faker import Faker

            self._faker = Faker()
        return self._faker
