"""Scenario files in, a ScenarioSet out: files → documents → teams, every problem collected.

Each problem reads `file:line: what is wrong; what was expected`, so `mockserver validate`
can list them all at once.
"""

from __future__ import annotations

from pathlib import Path

from mockserver.scenarios.model import ScenarioSet, Team
from mockserver.scenarios.problems import Problem, ScenarioError
from mockserver.scenarios.readers.faults import check_reach
from mockserver.scenarios.readers.fields import Reader, parse_duration, parse_pace
from mockserver.scenarios.readers.team import FORMAT_VERSION, read_file
from mockserver.scenarios.yamlsource import SourceError, line_of, parse

__all__ = [
    "FORMAT_VERSION",
    "Problem",
    "ScenarioError",
    "load_directory",
    "load_text",
    "parse_duration",
    "parse_pace",
]


def load_directory(directory: Path | str) -> ScenarioSet:
    """Every `*.yaml`/`*.yml` file below `directory`, or ScenarioError naming each problem."""
    root = Path(directory)
    if not root.is_dir():
        raise ScenarioError([Problem(str(root), 0, "not a directory of scenario files")])
    files = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    if not files:
        raise ScenarioError([Problem(str(root), 0, "no scenario files (*.yaml) found")])
    teams: dict[str, Team] = {}
    problems: list[Problem] = []
    for path in files:
        team, line, file_problems = _load(str(path), path.read_text(encoding="utf-8"))
        problems.extend(file_problems)
        if team is None:
            continue
        if team.id in teams:
            problems.append(
                Problem(str(path), line, f"duplicate team id {team.id!r}; already defined in {teams[team.id].source}")
            )
            continue
        teams[team.id] = team
    problems.extend(check_reach(teams))
    if problems:
        raise ScenarioError(problems)
    return ScenarioSet(teams=teams, directory=str(root))


def load_text(text: str, name: str = "<string>") -> Team:
    """One scenario file's text as a Team; for tests and tools."""
    team, _, problems = _load(name, text)
    if problems or team is None:
        raise ScenarioError(problems)
    return team


def _load(name: str, text: str) -> tuple[Team | None, int, list[Problem]]:
    """The team of one file (None if it has problems), the line of its team id, and its problems."""
    reader = Reader(name)
    try:
        document = parse(text)
    except SourceError as error:
        reader.problem(error.line, str(error))
        return None, 1, reader.problems
    team = read_file(reader, document)
    return team, line_of(document.get("team"), "id") if team else 1, reader.problems
