"""Scenario files: what loads, and every problem named with its file and line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from mockserver.scenarios.loader import ScenarioError, load_directory, load_text, parse_duration, parse_pace
from mockserver.scenarios.schema import scenario_schema
from tests.conftest import ROOT, SHIPPED, TEST_SCENARIOS

GOOD = """\
version: 1
team:
  id: t
  members: [{id: m, name: M}]
scenarios:
  - name: s
    events:
      - text: hi
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as raised:
        load_text(text, "bad.yaml")
    return [str(p) for p in raised.value.problems]


def test_a_minimal_file_loads() -> None:
    team = load_text(GOOD)
    assert (team.id, team.name, team.members[0].id) == ("t", "t", "m")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("- text: hi", "- event: TeamRunContnt"),
            "bad.yaml:8: scenario 's'.events[0]: unknown event type 'TeamRunContnt'",
        ),
        (("- text: hi", "- event: teamruncontent"), "did you mean 'TeamRunContent'?"),
        (
            ("- text: hi", "- text: hi\n        delay: soon"),
            "bad.yaml:9: scenario 's'.events[0].delay: bad duration 'soon'; expected e.g. 250ms, 1.5s or 0.2",
        ),
        (
            ("name: s", "name: s\n    match: '(unclosed'"),
            "bad.yaml:7: scenario 's'.match: bad regular expression '(unclosed'",
        ),
        (
            ("- text: hi", "- text: 'hi {{ nope }}'"),
            "bad.yaml:8: scenario 's'.events[0].text: unknown placeholder {{ nope }}",
        ),
        (("- text: hi", "- text: 'hi {{ faker.exec }}'"), "expected faker.<one of"),
        (("- text: hi", "- text: 'hi {{ __import__(1) }}'"), "is not a name"),
        (("version: 1", "version: 2"), "bad.yaml:1: version: expected 1, got 2"),
        (
            ("- text: hi", "- event: RunContent\n        content: x"),
            "bad.yaml:8: scenario 's'.events[0]: RunContent is a member event",
        ),
        (
            ("- text: hi", "- delegate: ghost\n        task: t"),
            "bad.yaml:8: scenario 's'.events[0].delegate: unknown member 'ghost'",
        ),
        (
            ("- text: hi", "- text: hi\n        tool: x"),
            "bad.yaml:8: scenario 's'.events[0]: expected exactly one of the keys",
        ),
        (("- text: hi", "- text: hi\n        pace: fast"), "bad.yaml:9: scenario 's'.events[0].pace: bad pace 'fast'"),
        (("name: s", "name: s\n    name: t"), "bad.yaml:7: duplicate key 'name'"),
        (("  id: t", "  id: 'a b'"), "bad.yaml:3: team.id: 'a b' cannot be used in a URL path"),
        (("name: s", "name: s\n    match: x"), "no default scenario"),
        (("- text: hi", "- text: [unclosed"), "bad.yaml:9: not valid YAML"),
        (("scenarios:", "scenarioz:"), "unknown key 'scenarioz' in the file"),
    ],
)
def test_each_problem_names_file_line_and_expectation(change: tuple[str, str], expected: str) -> None:
    messages = problems_of(GOOD.replace(*change))
    assert any(expected in m for m in messages), messages


def test_every_problem_is_reported_not_just_the_first() -> None:
    text = GOOD.replace("- text: hi", "- event: Nope\n      - text: hi\n        delay: -1s\n      - tool: ''")
    assert len(problems_of(text)) == 3


def test_duplicate_team_ids_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yaml").write_text(GOOD)
    with pytest.raises(ScenarioError) as raised:
        load_directory(tmp_path)
    expected = (
        f"{tmp_path / 'b.yaml'}:3: duplicate team id 't'; already defined at {tmp_path / 'a.yaml'}:3; "
        "expected each team id once across all scenario folders"
    )
    assert str(raised.value) == expected


def test_durations_and_paces() -> None:
    assert (parse_duration("250ms"), parse_duration("1.5s"), parse_duration(2), parse_duration("-1s")) == (
        0.25,
        1.5,
        2.0,
        None,
    )
    assert parse_pace("20 words/s").chunk_gap == pytest.approx(0.05)  # type: ignore[union-attr]
    assert parse_pace("40ms per token").unit == "tokens"  # type: ignore[union-attr]
    assert parse_pace("0 words/s") is None


def test_shipped_and_test_scenarios_load() -> None:
    assert {"research-team", "quick-team", "topic-team"} <= set(load_directory(SHIPPED).teams)
    load_directory(TEST_SCENARIOS)


def test_the_published_schema_is_current_and_accepts_every_shipped_file() -> None:
    published = json.loads((ROOT / "mockserver" / "scenarios" / "scenario.schema.json").read_text())
    assert published == scenario_schema()
    for path in sorted(SHIPPED.rglob("*.yaml")):
        text = path.read_text()
        assert text.startswith("# yaml-language-server: $schema=../mockserver/scenarios/scenario.schema.json"), path
        jsonschema.validate(yaml.safe_load(text), published)


def test_validate_command_lists_problems_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(GOOD.replace("- text: hi", "- event: Nope"))
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "validate", str(tmp_path)], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert f"{tmp_path / 'bad.yaml'}:8: scenario 's'.events[0]: unknown event type 'Nope'" in result.stderr
    ok = subprocess.run([sys.executable, "-m", "mockserver", "validate", str(SHIPPED)], capture_output=True, text=True)
    assert ok.returncode == 0 and "no problems" in ok.stdout


def test_serve_refuses_an_invalid_directory(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(GOOD.replace("version: 1", "version: x"))
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--scenarios", str(tmp_path), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1 and "bad.yaml:1: version: expected 1" in result.stderr


STORY = """\
version: 1
team:
  id: story
scenarios:
  - name: fails
    events:
      - event: TeamRunError
        content: not yet
  - name: works
    events:
      - text: done
sequence: [fails, works]
"""


def test_a_sequence_names_the_scenarios_played_in_turn() -> None:
    team = load_text(STORY)
    assert team.sequence == ("fails", "works")
    jsonschema.validate(yaml.safe_load(STORY), scenario_schema())


@pytest.mark.parametrize(
    ("sequence", "expected"),
    [
        (
            "sequence: [fails, work]",
            "bad.yaml:12: sequence[1]: no scenario 'work' in team 'story'; expected one of fails, works",
        ),
        ("sequence:\n  - fails\n  - [works]", "bad.yaml:14: sequence[1]: no scenario ['works'] in team 'story'"),
        (
            "sequence: fails",
            "bad.yaml:12: sequence: expected a list of scenario names, one per run; the team's are fails, works",
        ),
        ("sequence: []", "bad.yaml:12: sequence: expected a list of scenario names"),
    ],
)
def test_a_bad_sequence_is_named_by_file_and_line(sequence: str, expected: str) -> None:
    messages = problems_of(STORY.replace("sequence: [fails, works]", sequence))
    assert len(messages) == 1 and messages[0].startswith(expected), messages
