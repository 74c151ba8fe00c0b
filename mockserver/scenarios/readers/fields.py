"""What every reader shares: the problems of one file, and the readers of common fields.

A reader never stops at the first problem: it records it here with the line and reads on,
so `mockserver validate` can list every problem of a file at once. Each kind of value
(duration, pace) has its parser and its JSON Schema side by side.
"""

from __future__ import annotations

import re
from typing import Any

from mockserver.scenarios import templates
from mockserver.scenarios.model import Member, Pace
from mockserver.scenarios.problems import Problem
from mockserver.scenarios.yamlsource import LineDict, line_of

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*$")
_PACE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(words|tokens)\s*/\s*s\s*$")
_PACE_EVERY = re.compile(r"^\s*(\d+(?:\.\d+)?\s*(?:ms|s))\s+per\s+(word|token)\s*$")

DURATION_SCHEMA: dict[str, Any] = {
    "description": "A duration: 250ms, 1.5s, or a number of seconds",
    "oneOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*(ms|s)\s*$"}],
}
PACE_SCHEMA: dict[str, Any] = {
    "description": "How fast text streams: '20 words/s', '60 tokens/s' or '40ms per word'",
    "type": "string",
    "pattern": r"^\s*(\d+(\.\d+)?\s*(words|tokens)\s*/\s*s|\d+(\.\d+)?\s*(ms|s)\s+per\s+(word|token))\s*$",
}


def parse_duration(value: Any) -> float | None:
    """`250ms`, `1.5s` or a plain number of seconds; None when it is none of those."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if value >= 0 else None
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            number = float(match.group(1))
            return number / 1000 if match.group(2) == "ms" else number
    return None


def parse_pace(value: Any) -> Pace | None:
    """`20 words/s`, `60 tokens/s`, or `40ms per word`; None when it is none of those."""
    if not isinstance(value, str):
        return None
    match = _PACE.match(value)
    if match:
        rate = float(match.group(1))
        return Pace(unit=match.group(2), chunk_gap=1 / rate) if rate > 0 else None  # type: ignore[arg-type]
    match = _PACE_EVERY.match(value)
    if match:
        gap = parse_duration(match.group(1).replace(" ", ""))
        return Pace(unit=f"{match.group(2)}s", chunk_gap=gap) if gap is not None else None  # type: ignore[arg-type]
    return None


def plain(value: Any) -> Any:
    """Drop the line-keeping subclasses so the model holds plain dicts and lists."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


class Reader:
    """One file being read: its name, the problems found so far, and the team's members
    (which the steps of its scenarios may name)."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.members: dict[str, Member] = {}
        self.kind = "team"

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.file, line, message))

    def known_keys(self, mapping: LineDict, allowed: tuple[str, ...], where: str) -> None:
        for key in mapping:
            if key not in allowed:
                self.problem(
                    line_of(mapping, key), f"unknown key {key!r} in {where}; expected one of {', '.join(allowed)}"
                )

    def string(self, mapping: LineDict, key: str, where: str, *, required: bool = False, default: str = "") -> str:
        value = mapping.get(key)
        if value is None:
            if required:
                self.problem(mapping.line, f"{where}: missing {key!r} (a string)")
            return default
        if not isinstance(value, str):
            self.problem(line_of(mapping, key), f"{where}.{key}: expected a string, got {value!r}")
            return default
        self.check_templates(value, line_of(mapping, key), f"{where}.{key}")
        return value

    def duration(self, mapping: LineDict, key: str, where: str) -> float | None:
        if key not in mapping:
            return None
        seconds = parse_duration(mapping[key])
        if seconds is None:
            self.problem(
                line_of(mapping, key), f"{where}.{key}: bad duration {mapping[key]!r}; expected e.g. 250ms, 1.5s or 0.2"
            )
        return seconds

    def pace(self, mapping: LineDict, where: str) -> Pace | None:
        pace = parse_pace(mapping["pace"])
        if pace is None:
            self.problem(
                line_of(mapping, "pace"),
                (
                    f"{where}.pace: bad pace {mapping['pace']!r}; expected e.g. '20 words/s', '60 tokens/s' or '40ms "
                    f"per word'"
                ),
            )
        return pace

    def pattern(self, mapping: LineDict, where: str, *, empty: bool = True) -> re.Pattern[str] | None:
        """The `match` regular expression; `empty=False` refuses `''`, which matches everything."""
        if "match" not in mapping:
            return None
        value = mapping["match"]
        if not isinstance(value, str) or not (empty or value):
            self.problem(
                line_of(mapping, "match"), f"{where}.match: expected a regular expression string, got {value!r}"
            )
            return None
        try:
            return re.compile(value)
        except re.error as error:
            self.problem(line_of(mapping, "match"), f"{where}.match: bad regular expression {value!r}: {error}")
            return None

    def check_templates(self, value: Any, line: int, where: str) -> None:
        if isinstance(value, str):
            for problem in templates.check(value):
                self.problem(line, f"{where}: {problem}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.check_templates(item, line_of(value, index, line), where)
        elif isinstance(value, dict):
            for key, item in value.items():
                self.check_templates(item, line_of(value, key, line), f"{where}.{key}")
