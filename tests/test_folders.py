"""Several scenario folders served as one set: the shipped teams plus a folder of your own."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from mockserver.cli import build_parser, main, settings_from
from mockserver.scenarios.loader import ScenarioError, load_directories
from mockserver.settings import Settings
from tests.conftest import SHIPPED, run_server

TEAM = """\
version: 1
team:
  id: {team}
scenarios:
  - name: s
    events:
      - text: from {team}
"""


def folder_with(path: Path, *teams: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for team in teams:
        (path / f"{team}.yaml").write_text(TEAM.format(team=team))
    return path


def test_the_shipped_teams_and_a_folder_of_your_own_load_together(tmp_path: Path) -> None:
    mine = folder_with(tmp_path / "mine", "my-team")
    scenarios = load_directories([SHIPPED, mine])
    assert {"research-team", "error-500", "error-flaky", "my-team"} <= set(scenarios.teams)
    assert scenarios.directories == (str(SHIPPED), str(mine))


def test_a_team_defined_in_two_folders_names_both_files_and_lines(tmp_path: Path) -> None:
    first = folder_with(tmp_path / "a", "twice")
    second = folder_with(tmp_path / "b", "twice", "once")
    with pytest.raises(ScenarioError) as raised:
        load_directories([first, second])
    expected = (
        f"{second / 'twice.yaml'}:3: duplicate team id 'twice'; already defined at {first / 'twice.yaml'}:3; "
        "expected each team id once across all scenario folders"
    )
    assert [str(p) for p in raised.value.problems] == [expected]


def test_a_folder_given_twice_or_inside_another_is_read_once(tmp_path: Path) -> None:
    outer = folder_with(tmp_path, "outer")
    inner = folder_with(tmp_path / "inner", "inner")
    assert set(load_directories([outer, inner, outer]).teams) == {"outer", "inner"}


def test_an_empty_folder_beside_a_full_one_is_fine_but_a_missing_one_is_not(tmp_path: Path) -> None:
    full, empty = folder_with(tmp_path / "full", "t"), folder_with(tmp_path / "empty")
    assert set(load_directories([full, empty]).teams) == {"t"}
    with pytest.raises(ScenarioError) as raised:
        load_directories([empty])
    assert str(raised.value) == f"{empty}:0: no scenario files (*.yaml) found"
    with pytest.raises(ScenarioError) as raised:
        load_directories([full, tmp_path / "missing"])
    assert str(raised.value) == f"{tmp_path / 'missing'}:0: not a directory of scenario files"


def test_settings_take_one_folder_or_several() -> None:
    assert Settings(scenarios=Path("a")).scenarios == (Path("a"),)  # type: ignore[arg-type]
    assert Settings(scenarios="a").scenarios == (Path("a"),)  # type: ignore[arg-type]
    assert Settings(scenarios=(Path("a"), Path("b"))).scenarios == (Path("a"), Path("b"))


def test_scenarios_repeats_on_the_command_line_and_splits_in_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    def folders(*argv: str) -> tuple[Path, ...]:
        return settings_from(build_parser().parse_args(["serve", *argv])).scenarios

    assert folders("--scenarios", "a", "--scenarios", "b") == (Path("a"), Path("b"))
    monkeypatch.setenv("MOCKSERVER_SCENARIOS", os.pathsep.join(["x", "y"]))
    assert folders() == (Path("x"), Path("y"))
    assert folders("--scenarios", "a") == (Path("a"),)


def test_validate_checks_several_folders_as_one_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = folder_with(tmp_path / "a", "one"), folder_with(tmp_path / "b", "two")
    assert main(["validate", str(first), str(second)]) == 0
    assert capsys.readouterr().out == f"{first}, {second}: 2 teams, 2 scenarios, no problems\n"
    folder_with(second, "one")
    assert main(["validate", str(first), str(second)]) == 1
    assert (
        f"{second / 'one.yaml'}:3: duplicate team id 'one'; already defined at {first / 'one.yaml'}:3"
        in capsys.readouterr().err
    )


def test_serve_answers_for_the_teams_of_every_folder(tmp_path: Path) -> None:
    mine = folder_with(tmp_path, "my-team")
    with run_server(Settings(scenarios=(SHIPPED, mine), speed=0)) as url:
        mine_answer = httpx.post(f"{url}/teams/my-team/runs", data={"message": "hi", "stream": "false"})
        assert mine_answer.json()["content"] == "from my-team"
        assert httpx.post(f"{url}/teams/error-500/runs", data={"message": "hi"}).status_code == 500
