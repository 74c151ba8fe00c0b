"""Scenario files in, model out: the one place that knows YAML, files and line numbers.

Every problem is collected (not just the first) as `file:line: what is wrong; what was
expected`, so `mockserver validate` can list them all at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mockserver import templates
from mockserver.events import EVENTS
from mockserver.model import (
    Delegation,
    Member,
    ModelInfo,
    Pace,
    RawEvent,
    Reasoning,
    ReasoningStep,
    Scenario,
    ScenarioSet,
    Step,
    Team,
    Text,
    Timing,
    ToolCall,
)
from mockserver.yamlsource import DuplicateKey, LineDict, LineList, line_of, parse

FORMAT_VERSION = 1
STEP_KINDS = ("event", "text", "tool", "reasoning", "delegate")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*$")
_PACE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(words|tokens)\s*/\s*s\s*$")
_PACE_EVERY = re.compile(r"^\s*(\d+(?:\.\d+)?\s*(?:ms|s))\s+per\s+(word|token)\s*$")


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class ScenarioError(Exception):
    """One or more problems in a scenario directory; `str()` lists them a line each."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


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
        reader = _FileReader(str(path))
        team = reader.read(path.read_text(encoding="utf-8"))
        problems.extend(reader.problems)
        if team is None:
            continue
        if team.id in teams:
            problems.append(
                Problem(str(path), reader.team_line, f"duplicate team id {team.id!r}; already defined in {teams[team.id].source}")
            )
            continue
        teams[team.id] = team
    if problems:
        raise ScenarioError(problems)
    return ScenarioSet(teams=teams, directory=str(root))


def load_text(text: str, name: str = "<string>") -> Team:
    """One scenario file's text as a Team; for tests and tools."""
    reader = _FileReader(name)
    team = reader.read(text)
    if reader.problems or team is None:
        raise ScenarioError(reader.problems)
    return team


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


class _FileReader:
    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.team_line = 1
        self.members: dict[str, Member] = {}

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.file, line, message))

    def read(self, text: str) -> Team | None:
        try:
            document = parse(text)
        except DuplicateKey as error:
            self.problem(error.line, f"{error}; each key may appear once in a mapping")
            return None
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            reason = getattr(error, "problem", None) or str(error)
            self.problem(line, f"not valid YAML: {reason}")
            return None
        if not isinstance(document, LineDict):
            self.problem(1, "expected a mapping with keys version, team, scenarios")
            return None
        self.known_keys(document, ("version", "team", "scenarios", "faults"), "the file")
        version = document.get("version")
        if version != FORMAT_VERSION:
            self.problem(line_of(document, "version"), f"version: expected {FORMAT_VERSION}, got {version!r}")
        team_doc = document.get("team")
        if not isinstance(team_doc, LineDict):
            self.problem(line_of(document, "team"), "team: expected a mapping with id, name, members")
            return None
        self.team_line = team_doc.line
        scenarios_doc = document.get("scenarios")
        if not isinstance(scenarios_doc, LineList) or not scenarios_doc:
            self.problem(line_of(document, "scenarios"), "scenarios: expected a list with at least one scenario")
            return None
        team = self.read_team(team_doc, scenarios_doc)
        return team if not self.problems else None

    def known_keys(self, mapping: LineDict, allowed: tuple[str, ...], where: str) -> None:
        for key in mapping:
            if key not in allowed:
                self.problem(line_of(mapping, key), f"unknown key {key!r} in {where}; expected one of {', '.join(allowed)}")

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
            self.problem(line_of(mapping, key), f"{where}.{key}: bad duration {mapping[key]!r}; expected e.g. 250ms, 1.5s or 0.2")
        return seconds

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

    def model_info(self, mapping: LineDict, where: str) -> ModelInfo | None:
        value = mapping.get("model")
        if value is None:
            return None
        if not isinstance(value, LineDict):
            self.problem(line_of(mapping, "model"), f"{where}.model: expected a mapping with id and provider")
            return None
        self.known_keys(value, ("id", "provider"), f"{where}.model")
        return ModelInfo(id=self.string(value, "id", f"{where}.model", default="gpt-4o"),
                         provider=self.string(value, "provider", f"{where}.model", default="OpenAI"))

    def read_team(self, doc: LineDict, scenarios_doc: LineList) -> Team:
        self.known_keys(doc, ("id", "name", "description", "model", "members"), "team")
        team_id = self.string(doc, "id", "team", required=True)
        if team_id and not re.fullmatch(r"[A-Za-z0-9._~-]+", team_id):
            self.problem(line_of(doc, "id"), f"team.id: {team_id!r} cannot be used in a URL path; use letters, digits, '-', '_', '.'")
        members_doc = doc.get("members", LineList())
        members: list[Member] = []
        if not isinstance(members_doc, LineList):
            self.problem(line_of(doc, "members"), "team.members: expected a list of {id, name, role}")
            members_doc = LineList()
        for index, item in enumerate(members_doc):
            where = f"team.members[{index}]"
            if not isinstance(item, LineDict):
                self.problem(line_of(members_doc, index), f"{where}: expected a mapping with id, name, role")
                continue
            self.known_keys(item, ("id", "name", "role", "model"), where)
            member_id = self.string(item, "id", where, required=True)
            if member_id in self.members:
                self.problem(line_of(item, "id"), f"{where}.id: duplicate member id {member_id!r}")
            member = Member(
                id=member_id,
                name=self.string(item, "name", where, default=member_id.replace("-", " ").title()),
                role=self.string(item, "role", where),
                model=self.model_info(item, where),
            )
            self.members[member_id] = member
            members.append(member)
        scenarios = tuple(
            scenario
            for index, item in enumerate(scenarios_doc)
            if (scenario := self.read_scenario(item, line_of(scenarios_doc, index), index)) is not None
        )
        names = [s.name for s in scenarios]
        for name in {n for n in names if names.count(n) > 1}:
            self.problem(scenarios_doc.line, f"scenarios: duplicate scenario name {name!r}")
        if scenarios and all(s.match is not None for s in scenarios):
            self.problem(scenarios_doc.line, "scenarios: no default scenario; give one scenario without `match` (used when no match fits)")
        return Team(
            id=team_id,
            name=self.string(doc, "name", "team", default=team_id),
            description=self.string(doc, "description", "team"),
            model=self.model_info(doc, "team") or ModelInfo(),
            members=tuple(members),
            scenarios=scenarios,
            source=self.file,
        )

    def read_scenario(self, doc: Any, line: int, index: int) -> Scenario | None:
        where = f"scenarios[{index}]"
        if not isinstance(doc, LineDict):
            self.problem(line, f"{where}: expected a mapping with name, events")
            return None
        self.known_keys(doc, ("name", "match", "gap", "jitter", "pace", "model_requests", "events"), where)
        name = self.string(doc, "name", where, required=True) or f"scenario-{index}"
        where = f"scenario {name!r}"
        match = None
        if "match" in doc:
            pattern = doc["match"]
            try:
                match = re.compile(pattern) if isinstance(pattern, str) else None
                if match is None:
                    self.problem(line_of(doc, "match"), f"{where}.match: expected a regular expression string, got {pattern!r}")
            except re.error as error:
                self.problem(line_of(doc, "match"), f"{where}.match: bad regular expression {pattern!r}: {error}")
        pace = Pace()
        if "pace" in doc:
            pace = self.pace(doc, where) or pace
        model_requests = doc.get("model_requests", True)
        if not isinstance(model_requests, bool):
            self.problem(line_of(doc, "model_requests"), f"{where}.model_requests: expected true or false")
            model_requests = True
        gap = self.duration(doc, "gap", where)
        jitter = self.duration(doc, "jitter", where)
        timing = Timing(gap=Timing.gap if gap is None else gap, jitter=Timing.jitter if jitter is None else jitter)
        events = doc.get("events")
        if not isinstance(events, LineList) or not events:
            self.problem(line_of(doc, "events"), f"{where}.events: expected a list with at least one event")
            return None
        steps = self.read_steps(events, where, member=None)
        return Scenario(
            name=name,
            steps=steps,
            match=match,
            timing=timing,
            pace=pace,
            model_requests=model_requests,
            where=f"{self.file}:{doc.line}",
        )

    def pace(self, doc: LineDict, where: str) -> Pace | None:
        pace = parse_pace(doc["pace"])
        if pace is None:
            self.problem(line_of(doc, "pace"), f"{where}.pace: bad pace {doc['pace']!r}; expected e.g. '20 words/s', '60 tokens/s' or '40ms per word'")
        return pace

    def read_steps(self, items: LineList, where: str, member: str | None) -> tuple[Step, ...]:
        steps = []
        for index, item in enumerate(items):
            line = line_of(items, index)
            step_where = f"{where}.events[{index}]"
            if isinstance(item, str) and (item in EVENTS):
                item = LineDict({"event": item})
                item.line, item.key_lines = line, {"event": line}
            if not isinstance(item, LineDict):
                self.problem(line, f"{step_where}: expected a mapping with one of the keys {', '.join(STEP_KINDS)}")
                continue
            # An `event:` item passes its other keys through (a recorded ToolCallStarted has a `tool`).
            kinds = ["event"] if "event" in item else [k for k in STEP_KINDS if k in item]
            if len(kinds) != 1:
                found = ", ".join(kinds) or "none"
                self.problem(line, f"{step_where}: expected exactly one of the keys {', '.join(STEP_KINDS)}; found {found}")
                continue
            step = getattr(self, f"read_{kinds[0]}")(item, step_where, member)
            if step is not None:
                steps.append(step)
        return tuple(steps)

    def read_event(self, doc: LineDict, where: str, member: str | None) -> RawEvent | None:
        name = doc["event"]
        spec = EVENTS.get(name) if isinstance(name, str) else None
        if spec is None:
            close = [n for n in EVENTS if isinstance(name, str) and n.lower() == name.lower()]
            hint = f"did you mean {close[0]!r}?" if close else "expected an AgentOS event type such as TeamRunContent, TeamToolCallStarted or RunContent"
            self.problem(line_of(doc, "event"), f"{where}: unknown event type {name!r}; {hint}")
            return None
        fields = {k: v for k, v in doc.items() if k not in ("event", "member", "delay")}
        self.check_templates(fields, doc.line, where)
        event_member = doc.get("member", fields.get("agent_id", member))
        if spec.member:
            if event_member is None:
                self.problem(line_of(doc, "event"), f"{where}: {name} is a member event; give `member: <member id>` or put it inside a delegate")
                return None
            if event_member not in self.members:
                self.problem(line_of(doc, "member"), f"{where}: unknown member {event_member!r}; team members are {', '.join(self.members) or 'none'}")
                return None
        elif member is not None:
            self.problem(line_of(doc, "event"), f"{where}: {name} is a team event and cannot stand inside a delegate; use the member event without the Team prefix")
            return None
        elif "member" in doc:
            self.problem(line_of(doc, "member"), f"{where}: `member` is for member events; {name} is a team event")
        return RawEvent(event=name, fields=_plain(fields), member=event_member if spec.member else None, delay=self.duration(doc, "delay", where))

    def read_text(self, doc: LineDict, where: str, member: str | None) -> Text | None:
        self.known_keys(doc, ("text", "pace", "delay"), where)
        text: str | tuple[str, ...]
        if isinstance(doc["text"], list) and doc["text"] and all(isinstance(c, str) for c in doc["text"]):
            text = tuple(doc["text"])
            self.check_templates(doc["text"], line_of(doc, "text"), f"{where}.text")
        else:
            text = self.string(doc, "text", where)
        if not text:
            self.problem(line_of(doc, "text"), f"{where}.text: expected a non-empty string, or a list of the deltas to send")
            return None
        pace = self.pace(doc, where) if "pace" in doc else None
        return Text(text=text, pace=pace, delay=self.duration(doc, "delay", where))

    def read_tool(self, doc: LineDict, where: str, member: str | None) -> ToolCall | None:
        self.known_keys(doc, ("tool", "args", "result", "error", "duration", "delay"), where)
        name = self.string(doc, "tool", where)
        if not name:
            self.problem(line_of(doc, "tool"), f"{where}.tool: expected the tool's name")
            return None
        args = doc.get("args", {})
        if not isinstance(args, dict):
            self.problem(line_of(doc, "args"), f"{where}.args: expected a mapping of argument names to values")
            args = {}
        self.check_templates(args, line_of(doc, "args"), f"{where}.args")
        self.check_templates(doc.get("result"), line_of(doc, "result"), f"{where}.result")
        error = doc.get("error", False)
        if not isinstance(error, bool):
            self.problem(line_of(doc, "error"), f"{where}.error: expected true or false")
            error = False
        return ToolCall(
            name=name,
            args=_plain(args),
            result=_plain(doc.get("result")),
            error=error,
            duration=self.duration(doc, "duration", where) or 0.0,
            delay=self.duration(doc, "delay", where),
        )

    def read_reasoning(self, doc: LineDict, where: str, member: str | None) -> Reasoning | None:
        self.known_keys(doc, ("reasoning", "delay"), where)
        items = doc["reasoning"]
        if not isinstance(items, LineList) or not items:
            self.problem(line_of(doc, "reasoning"), f"{where}.reasoning: expected a list of steps (strings or mappings with title, reasoning)")
            return None
        steps = []
        allowed = ("title", "reasoning", "action", "result", "confidence", "next_action")
        for index, item in enumerate(items):
            step_where = f"{where}.reasoning[{index}]"
            if isinstance(item, str):
                self.check_templates(item, line_of(items, index), step_where)
                steps.append(ReasoningStep(title=item))
            elif isinstance(item, LineDict):
                self.known_keys(item, allowed, step_where)
                confidence = item.get("confidence")
                if confidence is not None and not (isinstance(confidence, (int, float)) and 0 <= confidence <= 1):
                    self.problem(line_of(item, "confidence"), f"{step_where}.confidence: expected a number from 0 to 1")
                    confidence = None
                steps.append(ReasoningStep(
                    title=self.string(item, "title", step_where, required=True),
                    reasoning=self.string(item, "reasoning", step_where),
                    action=self.string(item, "action", step_where) or None,
                    result=self.string(item, "result", step_where) or None,
                    confidence=confidence,
                    next_action=self.string(item, "next_action", step_where, default="continue"),
                ))
            else:
                self.problem(line_of(items, index), f"{step_where}: expected a string or a mapping with title, reasoning")
        return Reasoning(steps=tuple(steps), delay=self.duration(doc, "delay", where))

    def read_delegate(self, doc: LineDict, where: str, member: str | None) -> Delegation | None:
        self.known_keys(doc, ("delegate", "task", "events", "delay"), where)
        if member is not None:
            self.problem(line_of(doc, "delegate"), f"{where}: a member cannot delegate; delegate from the team's events")
            return None
        member_id = doc["delegate"]
        if member_id not in self.members:
            self.problem(line_of(doc, "delegate"), f"{where}.delegate: unknown member {member_id!r}; team members are {', '.join(self.members) or 'none'}")
            return None
        task = self.string(doc, "task", where, required=True)
        events = doc.get("events", LineList())
        if not isinstance(events, LineList):
            self.problem(line_of(doc, "events"), f"{where}.events: expected a list of the member's events")
            events = LineList()
        return Delegation(member=member_id, task=task, steps=self.read_steps(events, f"{where}", member_id), delay=self.duration(doc, "delay", where))


def _plain(value: Any) -> Any:
    """Drop the line-keeping subclasses so the model holds plain dicts and lists."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
