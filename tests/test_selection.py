"""Which scenario answers: a team's sequence by the run's place in it, else the first match."""

from __future__ import annotations

from mockserver.scenarios.loader import load_text
from mockserver.scenarios.selection import select_scenario

TEAM = """\
version: 1
team:
  id: t
scenarios:
  - name: weather
    match: weather
    events: [{text: sunny}]
  - name: first
    events: [{text: one}]
  - name: second
    events: [{text: two}]
"""


def test_the_first_match_wins_else_the_default() -> None:
    team = load_text(TEAM)
    assert select_scenario(team, "the weather?").name == "weather"
    assert select_scenario(team, "hello").name == "first"


def test_a_sequence_plays_in_turn_and_its_last_scenario_repeats() -> None:
    team = load_text(TEAM + "sequence: [second, weather, first]\n")
    chosen = [select_scenario(team, "the weather?", call_index=index).name for index in range(5)]
    assert chosen == ["second", "weather", "first", "first", "first"]


def test_without_a_call_index_a_sequence_leaves_the_choice_to_match() -> None:
    team = load_text(TEAM + "sequence: [second]\n")
    assert select_scenario(team, "the weather?").name == "weather"
