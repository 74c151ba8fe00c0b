"""Which scenario answers a request: the team's first whose `match` finds the message."""

from __future__ import annotations

from mockserver.scenarios.model import Scenario, Team


def select_scenario(team: Team, message: str) -> Scenario:
    """First match wins; otherwise the team's default (its first scenario without `match`)."""
    for scenario in team.scenarios:
        if scenario.match is not None and scenario.match.search(message):
            return scenario
    return next(s for s in team.scenarios if s.match is None)
