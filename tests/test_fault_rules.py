"""Fault rules in scenario files: what loads, and every wrong rule named by file and line."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from mockserver.scenarios.faultrules import Cancel, Drop, HttpFailure, RunError, Slow, Stall
from mockserver.scenarios.loader import ScenarioError, load_directory, load_text
from mockserver.scenarios.schema import scenario_schema
from tests.conftest import SHIPPED

HEAD = """\
version: 1
team:
  id: t
scenarios:
  - name: s
    events:
      - text: hello
faults:
"""
FIRST_RULE_LINE = HEAD.count("\n") + 1


def problems_of(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_text(text, "t.yaml")
    return [str(p) for p in caught.value.problems]


def test_every_kind_of_rule_loads() -> None:
    team = load_text(
        HEAD
        + """\
  - status: 503
    headers: {Retry-After: 5}
    latency: 100ms
    team: [t, t-*]
  - error: boom
    error_type: AgnoError
    error_id: E1
    match: fail
    after: 2
  - drop: true
    after: 1.5s
    times: 2
    per: session
  - stall: true
    keep_alive: 5s
    probability: 0.25
  - stall: 10s
  - cancel: true
  - slow: 2s
"""
    )
    actions = [rule.action for rule in team.faults]
    assert actions[0] == HttpFailure(status=503, headers=(("Retry-After", "5"),))
    assert actions[1] == RunError(content="boom", error_type="AgnoError", error_id="E1")
    assert [type(a) for a in actions[2:]] == [Drop, Stall, Stall, Cancel, Slow]
    first, error, drop, stall, held, _, slow = team.faults
    assert (first.teams, first.latency, first.covers("t-x"), first.covers("u")) == (("t", "t-*"), 0.1, True, False)
    assert (error.cut.events, drop.cut.seconds, drop.times, drop.per) == (2, 1.5, 2, "session")
    assert (stall.action, stall.probability) == (Stall(hold=None, keep_alive=5.0), 0.25)
    assert held.action == Stall(hold=10.0)
    assert slow.latency == 2.0
    assert [rule.key for rule in team.faults][:2] == ["t/faults[0]", "t/faults[1]"]


@pytest.mark.parametrize(
    ("rule", "line", "expected"),
    [
        ("  - status: 999", 0, "unknown status 999; expected an HTTP error status from 400 to 599"),
        ("  - status: 302", 0, "unknown status 302"),
        ("  - status: 450", 0, "unknown status 450"),
        ("  - status: '500'", 0, "unknown status '500'"),
        ("  - drop: true\n    after: -1", 1, "after: negative count -1"),
        ("  - drop: true\n    after: 2.5", 1, "after: expected a number of events (3) or a time into the stream"),
        ("  - status: 500\n    times: 0", 1, "times: expected a whole number >= 1"),
        ("  - status: 500\n    times: -3", 1, "times: expected a whole number >= 1"),
        ("  - status: 500\n    probability: 0", 1, "probability: expected a number above 0 and at most 1"),
        ("  - status: 500\n    probability: 1.5", 1, "probability: expected a number above 0 and at most 1"),
        ("  - status: 500\n    team: 'error-['", 1, "bad glob 'error-[': unclosed '['"),
        ("  - status: 500\n    team: 'error *'", 1, "bad glob 'error *': only team id characters"),
        ("  - status: 500\n    team: ''", 1, "bad glob '': it is empty"),
        ("  - status: 500\n    team: [t, 3]", 1, "team: expected a team id or glob"),
        ("  - status: 500\n    match: '(unclosed'", 1, "match: bad regular expression '(unclosed'"),
        (
            "  - status: 500\n    drop: true",
            0,
            "expected exactly one of the keys status, error, drop, stall, cancel, slow; found status, drop",
        ),
        ("  - after: 3", 0, "expected exactly one of the keys status, error, drop, stall, cancel, slow; found none"),
        ("  - drop: false", 0, "drop: expected true, got False"),
        ("  - stall: 0s", 0, "stall: expected true (until the client gives up) or how long to hold"),
        ("  - stall: true\n    keep_alive: 0", 1, "keep_alive: expected a time above 0"),
        ("  - slow: soon", 0, "slow: expected the wait before the response head"),
        ("  - error: ''", 0, "error: expected the error message"),
        ("  - error: boom\n    detail: x", 1, "detail: goes with status, not with error"),
        ("  - status: 500\n    after: 2", 1, "after: goes with error or drop or stall or cancel, not with status"),
        ("  - slow: 1s\n    latency: 1s", 1, "`slow` is itself the wait before the response head"),
        ("  - status: 500\n    retry: 3", 1, "unknown key 'retry'"),
        ("  - status: 500\n    per: session", 1, "per: only goes with `times`"),
        ("  - status: 500\n    times: 2\n    per: user", 2, "per: expected team or session"),
        ("  - status: 500\n    times: 2\n    probability: 0.5", 2, "give `times` or `probability`, not both"),
        (
            "  - status: 429\n    headers: {Retry-After: [1]}",
            1,
            "headers.Retry-After: expected a one-line string or number",
        ),
        ("  - status: 429\n    latency: -1s", 1, "latency: bad duration"),
        ("  - not a mapping", 0, "faults[0]: expected a mapping"),
    ],
)
def test_a_wrong_rule_is_named_by_file_and_line(rule: str, line: int, expected: str) -> None:
    problems = problems_of(HEAD + rule + "\n")
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"t.yaml:{FIRST_RULE_LINE + line}: ")
    assert expected in problems[0]


def test_faults_must_be_a_list() -> None:
    assert problems_of(HEAD + "  status: 500\n") == [
        f"t.yaml:{FIRST_RULE_LINE - 1}: faults: expected a list of fault rules, "
        "each with one of the keys status, error, drop, stall, cancel, slow"
    ]


def write(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(text, encoding="utf-8")


def team_file(team_id: str, faults: str = "") -> str:
    return HEAD.replace("id: t", f"id: {team_id}").replace("faults:\n", f"faults:\n{faults}" if faults else "")


def directory_problems(directory: Path) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_directory(directory)
    return [str(p) for p in caught.value.problems]


def test_a_rule_for_no_known_team_can_never_fire(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", team_file("a", "  - status: 500\n    team: error-*\n"))
    problems = directory_problems(tmp_path)
    assert problems == [
        f"{tmp_path / 'a.yaml'}:{FIRST_RULE_LINE}: faults[0]: team 'error-*' matches no team, "
        "so the rule can never fire; teams are a"
    ]


def test_a_rule_behind_one_that_always_fires_can_never_fire(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", team_file("a", "  - status: 500\n  - status: 429\n    latency: 1s\n"))
    problems = directory_problems(tmp_path)
    assert len(problems) == 1
    assert problems[0].startswith(
        f"{tmp_path / 'a.yaml'}:{FIRST_RULE_LINE + 1}: faults[1]: can never fire: "
        f"every team it covers (a) is already taken by the rule at {tmp_path / 'a.yaml'}:{FIRST_RULE_LINE}"
    )


def test_a_glob_rule_in_an_earlier_file_shadows_a_later_one(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", team_file("a", "  - status: 500\n    team: '*'\n"))
    write(tmp_path, "b.yaml", team_file("b", "  - drop: true\n"))
    problems = directory_problems(tmp_path)
    assert len(problems) == 1 and problems[0].startswith(
        f"{tmp_path / 'b.yaml'}:{FIRST_RULE_LINE}: faults[0]: can never fire"
    )


def test_conditional_rules_leave_room_for_later_ones(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        team_file(
            "a",
            "  - status: 500\n    match: x\n"
            "  - status: 503\n    times: 1\n"
            "  - status: 429\n    probability: 0.5\n"
            "  - drop: true\n",
        ),
    )
    write(tmp_path, "b.yaml", team_file("b"))
    scenarios = load_directory(tmp_path)
    assert len(scenarios.teams["a"].faults) == 4


def test_the_shipped_fault_teams_load_and_match_the_schema() -> None:
    scenarios = load_directory(SHIPPED)
    expected = {
        "error-500",
        "error-401",
        "error-429",
        "error-midstream",
        "error-drop",
        "error-stall",
        "error-slow",
        "error-flaky",
        "error-cancelled",
    }
    assert expected <= set(scenarios.teams)
    assert all(scenarios.teams[team].faults for team in expected)
    validator = jsonschema.Draft202012Validator(scenario_schema())
    for path in sorted(SHIPPED.glob("*.yaml")):
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))]
        assert errors == [], path


def test_the_schema_rejects_a_rule_with_two_kinds_and_the_file_is_current() -> None:
    validator = jsonschema.Draft202012Validator(scenario_schema())
    document = yaml.safe_load(HEAD + "  - status: 500\n    drop: true\n")
    assert not validator.is_valid(document)
    shipped = Path(__file__).resolve().parent.parent / "mockserver" / "scenarios" / "scenario.schema.json"
    assert json.loads(shipped.read_text(encoding="utf-8")) == scenario_schema()
