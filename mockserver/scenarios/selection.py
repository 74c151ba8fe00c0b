"""Which scenario answers a request: the team's sequence when it has one, else the first whose
`match` finds the message."""

from __future__ import annotations

from mockserver.scenarios.model import Scenario, Team


def select_scenario(team: Team, message: str, call_index: int | None = None) -> Scenario:
    """With a `sequence` and the run's `call_index` (0 for the first run the caller counted), the
    scenario the sequence names there, its last one repeating; otherwise the first match wins,
    then the team's default (its first scenario without `match`)."""
    if team.sequence and call_index is not None:
        name = team.sequence[min(max(call_index, 0), len(team.sequence) - 1)]
        return next(s for s in team.scenarios if s.name == name)
    for scenario in team.scenarios:
        if scenario.match is not None and scenario.match.search(message):
            return scenario
    return next(s for s in team.scenarios if s.match is None)
