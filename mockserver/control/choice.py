"""Which scenario answers one run: the test's choice first, the scenario's own rules after.

In order: the request's `X-Mock-Scenario: NAME`; the space's override (`PUT
/__mock/teams/{id}/scenario`: a name for N runs, or a sequence whose last name repeats); the
team's YAML `sequence:` (stateful stories: the first call fails, the second works); else the
first scenario whose `match` finds the message. Positions and counters are the space's, so
parallel workers in their own namespaces do not move each other's.
"""

from __future__ import annotations

from mockserver.control import ControlError
from mockserver.scenarios.model import Scenario, Team
from mockserver.scenarios.selection import select_scenario
from mockserver.state import Override, Space

SCENARIO_HEADER = "x-mock-scenario"


def named(team: Team, name: str, asked_by: str) -> Scenario:
    scenario = next((s for s in team.scenarios if s.name == name), None)
    if scenario is None:
        names = ", ".join(s.name for s in team.scenarios)
        raise ControlError(f"{asked_by}: team {team.id!r} has no scenario {name!r}; its scenarios are {names}")
    return scenario


def choose_scenario(space: Space, team: Team, message: str, asked: str | None = None) -> Scenario:
    if asked is not None:
        return named(team, asked, "X-Mock-Scenario")
    override = space.overrides.get(team.id)
    if override is not None:
        scenario = named(team, _next(override.names, override.played), f"the scenario override of {team.id!r}")
        override.played += 1
        if override.times is not None and override.played >= override.times:
            del space.overrides[team.id]
        return scenario
    if team.sequence:
        position = space.sequence_positions.get(team.id, 0)
        space.sequence_positions[team.id] = position + 1
        return select_scenario(team, message, call_index=position)
    return select_scenario(team, message)


def _next(names: tuple[str, ...], played: int) -> str:
    return names[min(played, len(names) - 1)]


def override_from(team: Team, doc: object) -> Override:
    """The override a `PUT /__mock/teams/{id}/scenario` body asks for, every name checked first."""
    if not isinstance(doc, dict):
        raise ControlError('expected {"name": NAME, "times": N} or {"sequence": [NAME, ...]}')
    unknown = sorted(set(doc) - {"name", "times", "sequence"})
    if unknown:
        raise ControlError(f"unknown key {unknown[0]!r}; expected name and times, or sequence")
    if ("name" in doc) == ("sequence" in doc):
        raise ControlError('give either "name" (with an optional "times") or "sequence", not both or neither')
    if "sequence" in doc:
        if "times" in doc:
            raise ControlError('"times" goes with "name"; a sequence plays once through, then repeats its last name')
        names = doc["sequence"]
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise ControlError(f"sequence: expected a non-empty list of scenario names, got {names!r}")
    else:
        if not isinstance(doc["name"], str):
            raise ControlError(f"name: expected a scenario name, got {doc['name']!r}")
        names = [doc["name"]]
    for name in names:
        named(team, name, "name" if "name" in doc else "sequence")
    times = doc.get("times")
    if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
        raise ControlError(f"times: expected a whole number >= 1 (or no times: until reset), got {times!r}")
    return Override(tuple(names), times)
