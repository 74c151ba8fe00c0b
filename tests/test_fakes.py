"""`{{ faker.X }}` values: remembered per seed, and always those a freshly seeded Faker gives."""

from __future__ import annotations

from faker import Faker

from mockserver.scenarios.fakes import SeededFaker


def faker_draws(seed: int, calls: list[str]) -> list[object]:
    faker = Faker()
    faker.seed_instance(seed)
    return [getattr(faker, name)() for name in calls]


def seeded_draws(fakes: SeededFaker, seed: int, calls: list[str]) -> list[object]:
    fakes.seed_instance(seed)
    return [getattr(fakes, name)() for name in calls]


def test_a_repeated_seed_gives_the_same_values_as_faker() -> None:
    calls = ["name", "url", "catch_phrase", "name", "company", "pyint"]
    fakes = SeededFaker()
    first = seeded_draws(fakes, 7, calls)
    assert first == faker_draws(7, calls)
    assert seeded_draws(fakes, 8, calls) == faker_draws(8, calls)
    assert seeded_draws(fakes, 7, calls) == first


def test_calls_that_go_another_way_after_a_seed_still_match_faker() -> None:
    fakes = SeededFaker()
    seeded_draws(fakes, 7, ["name", "url", "company"])
    other = ["name", "city", "company", "word"]
    assert seeded_draws(fakes, 7, other) == faker_draws(7, other)
    longer = [*other, "email", "job"]
    assert seeded_draws(fakes, 7, longer) == faker_draws(7, longer)
    assert seeded_draws(fakes, 7, ["name"]) == faker_draws(7, ["name"])


def test_the_oldest_seed_is_forgotten_past_the_limit() -> None:
    fakes = SeededFaker(remembered=2)
    for seed in (1, 2, 3):
        seeded_draws(fakes, seed, ["name"])
    assert seeded_draws(fakes, 1, ["name", "url"]) == faker_draws(1, ["name", "url"])
    assert len(fakes._drawn) == 2


def test_only_the_listed_providers_are_offered() -> None:
    fakes = SeededFaker()
    assert not hasattr(fakes, "password")
