"""Scenario folders in, a ScenarioSet out: files → documents → teams, every problem collected.

Each problem reads `file:line: what is wrong; what was expected`, so `mockserver validate`
can list them all at once. Nothing a file holds makes loading raise anything but
ScenarioError: a file that cannot be read is one more problem.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

from mockserver.scenarios.limits import DEFAULT_LIMITS, Limits
from mockserver.scenarios.model import ScenarioSet, Team
from mockserver.scenarios.problems import Problem, ScenarioError
from mockserver.scenarios.readers.faults import check_reach
from mockserver.scenarios.readers.fields import Reader, parse_duration, parse_pace
from mockserver.scenarios.readers.team import FORMAT_VERSION, read_file
from mockserver.scenarios.templates import human_size
from mockserver.scenarios.yamlsource import SourceError, decode, line_of, parse

__all__ = [
    "FORMAT_VERSION",
    "Limits",
    "Problem",
    "ScenarioError",
    "load_directories",
    "load_directory",
    "load_text",
    "parse_duration",
    "parse_pace",
]


def load_directory(directory: Path | str, limits: Limits = DEFAULT_LIMITS) -> ScenarioSet:
    """Every `*.yaml`/`*.yml` file below `directory`, or ScenarioError naming each problem."""
    return load_directories([directory], limits)


def load_directories(directories: Iterable[Path | str], limits: Limits = DEFAULT_LIMITS) -> ScenarioSet:
    """The files of all `directories` as one set, in the order given; a team id may be defined
    once across them all. An empty folder is fine as long as another one has files."""
    roots = [Path(directory) for directory in directories]
    problems: list[Problem] = []
    files = _scenario_files(roots, problems)
    kinds: dict[str, dict[str, Team]] = {"team": {}, "agent": {}}
    origins: dict[tuple[str, str], str] = {}
    for path in files:
        team, line, file_problems = _load(str(path), partial(_file_text, path, limits), limits)
        problems.extend(file_problems)
        if team is None:
            continue
        same_kind = kinds[team.kind]
        if team.id in same_kind:
            message = (
                f"duplicate {team.kind} id {team.id!r}; already defined at {origins[team.kind, team.id]}; "
                f"expected each {team.kind} id once across all scenario folders"
            )
            problems.append(Problem(str(path), line, message))
            continue
        same_kind[team.id] = team
        origins[team.kind, team.id] = f"{path}:{line}"
    teams, agents = kinds["team"], kinds["agent"]
    problems.extend(check_reach({**agents, **teams}))
    if problems:
        raise ScenarioError(problems)
    return ScenarioSet(teams=teams, directories=tuple(str(root) for root in roots), agents=agents)


def load_text(text: str, name: str = "<string>", limits: Limits = DEFAULT_LIMITS) -> Team:
    """One scenario file's text as a Team; for tests and tools."""
    team, _, problems = _load(name, partial(_sized, text, limits), limits)
    if problems or team is None:
        raise ScenarioError(problems)
    return team


def _scenario_files(roots: list[Path], problems: list[Problem]) -> list[Path]:
    files: dict[Path, Path] = {}
    for root in roots:
        if not root.is_dir():
            problems.append(Problem(str(root), 0, "not a directory of scenario files"))
            continue
        try:
            found = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
        except OSError as error:
            problems.append(Problem(str(root), 0, f"cannot list the folder: {error}"))
            continue
        for path in found:
            files.setdefault(path.resolve(), path)  # a folder given twice, or inside another, is read once
    if not files and not problems:
        problems.extend(Problem(str(root), 0, "no scenario files (*.yaml) found") for root in roots)
    return list(files.values())


def _load(name: str, read: Callable[[], str], limits: Limits) -> tuple[Team | None, int, list[Problem]]:
    """The team of one file (None if it has problems), the line of its team id, and its problems."""
    reader = Reader(name)
    try:
        document = parse(read(), limits)
        team = read_file(reader, document)
        return team, line_of(document.get("team"), "id") if team else 1, reader.problems
    except SourceError as error:
        reader.problem(error.line, str(error))
    except OSError as error:
        reader.problem(1, f"cannot read the file: {error.strerror or error}")
    except Exception as error:  # noqa: BLE001 - one file, however odd, must not stop the others loading
        reader.problem(1, f"the file could not be read ({type(error).__name__}: {error}); expected a scenario file")
    return None, 1, reader.problems


def _file_text(path: Path, limits: Limits) -> str:
    """The file's text, reading no more than the size limit allows."""
    with path.open("rb") as file:
        data = file.read(limits.file_size + 1)
        if len(data) > limits.file_size:
            raise SourceError(1, _too_big(os.fstat(file.fileno()).st_size, limits))
    return decode(data)


def _sized(text: str, limits: Limits) -> str:
    size = len(text.encode("utf-8", "replace"))
    if size > limits.file_size:
        raise SourceError(1, _too_big(size, limits))
    return text


def _too_big(size: int, limits: Limits) -> str:
    limit = limits.file_size
    return f"the file is {size:,} bytes; expected at most {limit:,} ({human_size(limit)}, the file-size limit)"
