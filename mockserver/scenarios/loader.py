"""Scenario files in, model out: the one place that knows YAML, files and line numbers.

Every problem is collected (not just the first) as `file:line: what is wrong; what was
expected`, so `mockserver validate` can list them all at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from http import HTTPStatus
from pathlib import Path
from typing import Any

import yaml

from mockserver.scenarios import templates
from mockserver.agentos.events import EVENTS
from mockserver.scenarios.faultrules import Cancel, Cut, Drop, FaultRule, HttpFailure, RunError, Slow, Stall
from mockserver.scenarios.model import (
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
from mockserver.scenarios.yamlsource import DuplicateKey, LineDict, LineList, line_of, parse

FORMAT_VERSION = 1
STEP_KINDS = ("event", "text", "tool", "reasoning", "delegate")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*$")
_PACE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(words|tokens)\s*/\s*s\s*$")
_PACE_EVERY = re.compile(r"^\s*(\d+(?:\.\d+)?\s*(?:ms|s))\s+per\s+(word|token)\s*$")
FAULT_KINDS = ("status", "error", "drop", "stall", "cancel", "slow")
_FAULT_OPTIONS: dict[str, tuple[str, ...]] = {
    "status": ("detail", "body", "headers"),
    "error": ("error_type", "error_id", "after"),
    "drop": ("after",),
    "stall": ("keep_alive", "after"),
    "cancel": ("after",),
    "slow": (),
}
_FAULT_COMMON = ("team", "match", "latency", "times", "per", "probability")
_TEAM_GLOB = re.compile(r"[A-Za-z0-9._~*?!\[\]-]+")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


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
    fault_origins: dict[str, tuple[str, int]] = {}
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
        fault_origins.update((key, (str(path), line)) for key, line in reader.fault_lines.items())
    problems.extend(check_fault_reach(teams, fault_origins))
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
        self.fault_lines: dict[str, int] = {}

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
        if "faults" in document:
            team = replace(team, faults=self.read_faults(document, team.id))
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

    # -- faults ---------------------------------------------------------------------------------

    def read_faults(self, document: LineDict, team_id: str) -> tuple[FaultRule, ...]:
        items = document["faults"]
        if not isinstance(items, LineList):
            self.problem(line_of(document, "faults"), "faults: expected a list of fault rules, each with one of the keys " + ", ".join(FAULT_KINDS))
            return ()
        rules = []
        for index, item in enumerate(items):
            rule = self.read_fault(item, line_of(items, index), f"{team_id}/faults[{index}]", team_id)
            if rule is not None:
                rules.append(rule)
        return tuple(rules)

    def read_fault(self, doc: Any, line: int, key: str, team_id: str) -> FaultRule | None:
        where = key.split("/", 1)[1]
        if not isinstance(doc, LineDict):
            self.problem(line, f"{where}: expected a mapping with one of the keys {', '.join(FAULT_KINDS)}")
            return None
        kinds = [k for k in FAULT_KINDS if k in doc]
        if len(kinds) != 1:
            found = ", ".join(kinds) or "none"
            self.problem(doc.line, f"{where}: expected exactly one of the keys {', '.join(FAULT_KINDS)}; found {found}")
            return None
        kind = kinds[0]
        self.known_fault_keys(doc, kind, where)
        before = len(self.problems)
        action = getattr(self, f"fault_{kind}")(doc, where)
        teams = self.fault_teams(doc, where, team_id)
        match = None
        if "match" in doc:
            pattern = doc["match"]
            if not isinstance(pattern, str) or not pattern:
                self.problem(line_of(doc, "match"), f"{where}.match: expected a regular expression string, got {pattern!r}")
            else:
                try:
                    match = re.compile(pattern)
                except re.error as error:
                    self.problem(line_of(doc, "match"), f"{where}.match: bad regular expression {pattern!r}: {error}")
        cut = self.fault_cut(doc, where)
        latency = self.duration(doc, "latency", where) or 0.0
        if isinstance(action, Slow):
            latency = parse_duration(doc["slow"]) or 0.0
        times = doc.get("times")
        if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
            self.problem(line_of(doc, "times"), f"{where}.times: expected a whole number >= 1 (the fault hits the first N requests, then they succeed), got {times!r}")
            times = None
        per = doc.get("per", "team")
        if per not in ("team", "session"):
            self.problem(line_of(doc, "per"), f"{where}.per: expected team or session, got {per!r}")
            per = "team"
        elif "per" in doc and "times" not in doc:
            self.problem(line_of(doc, "per"), f"{where}.per: only goes with `times` (count the first N requests per team or per session)")
        probability = doc.get("probability")
        if probability is not None:
            if isinstance(probability, bool) or not isinstance(probability, (int, float)) or not 0 < probability <= 1:
                self.problem(line_of(doc, "probability"), f"{where}.probability: expected a number above 0 and at most 1 (0.25 = one request in four), got {probability!r}")
                probability = None
            elif "times" in doc:
                self.problem(line_of(doc, "probability"), f"{where}: give `times` or `probability`, not both")
        if len(self.problems) > before or action is None:
            return None
        self.fault_lines[key] = doc.line
        return FaultRule(
            key=key,
            action=action,
            teams=teams,
            match=match,
            cut=cut,
            latency=latency,
            times=times,
            per=per,
            probability=None if probability is None else float(probability),
            where=f"{self.file}:{doc.line}",
        )

    def known_fault_keys(self, doc: LineDict, kind: str, where: str) -> None:
        allowed = (kind, *_FAULT_COMMON, *_FAULT_OPTIONS[kind])
        if kind == "slow":
            allowed = tuple(k for k in allowed if k != "latency")
        for name in doc:
            if name in allowed:
                continue
            owners = [k for k, options in _FAULT_OPTIONS.items() if name in options]
            if owners:
                self.problem(line_of(doc, name), f"{where}.{name}: goes with {' or '.join(owners)}, not with {kind}")
            elif name == "latency":
                self.problem(line_of(doc, name), f"{where}.latency: `slow` is itself the wait before the response head; drop `latency`")
            else:
                self.problem(line_of(doc, name), f"unknown key {name!r} in {where}; expected one of {', '.join(allowed)}")

    def fault_teams(self, doc: LineDict, where: str, team_id: str) -> tuple[str, ...]:
        value = doc.get("team", team_id)
        patterns = [value] if isinstance(value, str) else value
        if not isinstance(patterns, list) or not patterns or not all(isinstance(p, str) for p in patterns):
            self.problem(line_of(doc, "team"), f"{where}.team: expected a team id or glob (error-*), or a list of them, got {value!r}")
            return (team_id,)
        for pattern in patterns:
            reason = _glob_problem(pattern)
            if reason:
                self.problem(line_of(doc, "team"), f"{where}.team: bad glob {pattern!r}: {reason}; expected a team id or a pattern such as error-* or team-[ab]")
        return tuple(patterns)

    def fault_cut(self, doc: LineDict, where: str) -> Cut:
        if "after" not in doc:
            return Cut()
        value = doc["after"]
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 0:
                self.problem(line_of(doc, "after"), f"{where}.after: negative count {value}; expected a number of events >= 0 or a time such as 1.5s")
                return Cut()
            return Cut(events=value)
        seconds = parse_duration(value) if isinstance(value, str) else None
        if seconds is None:
            self.problem(line_of(doc, "after"), f"{where}.after: expected a number of events (3) or a time into the stream (1.5s, 250ms), got {value!r}")
            return Cut()
        return Cut(seconds=seconds)

    def fault_status(self, doc: LineDict, where: str) -> HttpFailure | None:
        status = doc["status"]
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599 or status not in HTTPStatus._value2member_map_:
            self.problem(line_of(doc, "status"), f"{where}.status: unknown status {status!r}; expected an HTTP error status from 400 to 599 such as 401, 429, 500 or 503")
            return None
        detail = doc.get("detail")
        if detail is not None and not isinstance(detail, str):
            self.problem(line_of(doc, "detail"), f"{where}.detail: expected a string (the error message), got {detail!r}")
        headers = doc.get("headers", {})
        if not isinstance(headers, dict):
            self.problem(line_of(doc, "headers"), f"{where}.headers: expected a mapping of header names to values, e.g. Retry-After: 30")
            headers = {}
        pairs = []
        for name, value in headers.items():
            if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
                self.problem(line_of(headers, name), f"{where}.headers: bad header name {name!r}")
            elif isinstance(value, bool) or not isinstance(value, (str, int, float)) or any(c in str(value) for c in "\r\n"):
                self.problem(line_of(headers, name), f"{where}.headers.{name}: expected a one-line string or number, got {value!r}")
            else:
                pairs.append((name, str(value)))
        return HttpFailure(status=status, detail=detail if isinstance(detail, str) else None, body=_plain(doc.get("body")), headers=tuple(pairs))

    def fault_error(self, doc: LineDict, where: str) -> RunError | None:
        content = doc["error"]
        if not isinstance(content, str) or not content:
            self.problem(line_of(doc, "error"), f"{where}.error: expected the error message (a non-empty string), got {content!r}")
            return None
        error_type = doc.get("error_type", "RuntimeError")
        error_id = doc.get("error_id")
        for name, value in (("error_type", error_type), ("error_id", error_id)):
            if value is not None and not (isinstance(value, str) and value):
                self.problem(line_of(doc, name), f"{where}.{name}: expected a non-empty string, got {value!r}")
        return RunError(content=content, error_type=str(error_type), error_id=error_id)

    def fault_flag(self, doc: LineDict, kind: str, where: str) -> bool:
        if doc[kind] is not True:
            self.problem(line_of(doc, kind), f"{where}.{kind}: expected true, got {doc[kind]!r}")
            return False
        return True

    def fault_drop(self, doc: LineDict, where: str) -> Drop | None:
        return Drop() if self.fault_flag(doc, "drop", where) else None

    def fault_cancel(self, doc: LineDict, where: str) -> Cancel | None:
        return Cancel() if self.fault_flag(doc, "cancel", where) else None

    def fault_stall(self, doc: LineDict, where: str) -> Stall | None:
        value = doc["stall"]
        hold = None if value is True else parse_duration(value)
        if value is not True and not hold:
            self.problem(line_of(doc, "stall"), f"{where}.stall: expected true (until the client gives up) or how long to hold, e.g. 30s; got {value!r}")
            return None
        keep_alive = self.duration(doc, "keep_alive", where)
        if keep_alive == 0:
            self.problem(line_of(doc, "keep_alive"), f"{where}.keep_alive: expected a time above 0 between comments, e.g. 5s")
            keep_alive = None
        return Stall(hold=hold, keep_alive=keep_alive)

    def fault_slow(self, doc: LineDict, where: str) -> Slow | None:
        seconds = parse_duration(doc["slow"])
        if not seconds:
            self.problem(line_of(doc, "slow"), f"{where}.slow: expected the wait before the response head, e.g. 3s or 800ms; got {doc['slow']!r}")
            return None
        return Slow()


def _plain(value: Any) -> Any:
    """Drop the line-keeping subclasses so the model holds plain dicts and lists."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _glob_problem(pattern: str) -> str:
    """Why `pattern` is not a usable team glob, or "" when it is."""
    if not pattern:
        return "it is empty"
    if not _TEAM_GLOB.fullmatch(pattern):
        return "only team id characters and * ? [ ] ! may appear"
    depth = 0
    for char in pattern:
        if char == "[":
            if depth:
                return "'[' inside a [...] set"
            depth = 1
        elif char == "]" and depth:
            depth = 0
    return "unclosed '['" if depth else ""


def check_fault_reach(teams: dict[str, Team], origins: dict[str, tuple[str, int]]) -> list[Problem]:
    """Rules that can never fire: they name no loaded team, or an earlier rule that always fires
    (no `match`, `times` or `probability`) already takes every team they name. Rules are tried
    in file order, then in the order of each file's `faults:` list."""
    problems = []
    taken: dict[str, FaultRule] = {}
    for rule in (rule for team in teams.values() for rule in team.faults):
        file, line = origins.get(rule.key, (rule.where, 0))
        where = rule.key.split("/", 1)[1]
        covered = [team_id for team_id in teams if rule.covers(team_id)]
        reachable = [team_id for team_id in covered if team_id not in taken]
        if not covered:
            known = ", ".join(sorted(teams))
            problems.append(Problem(file, line, f"{where}: team {' '.join(rule.teams)!r} matches no team, so the rule can never fire; teams are {known}"))
        elif not reachable:
            first = taken[covered[0]]
            problems.append(Problem(file, line, f"{where}: can never fire: every team it covers ({', '.join(covered)}) is already taken by the rule at {first.where}, which always fires; give that rule a match, times or probability, or put this one first"))
        if rule.always:
            taken.update((team_id, rule) for team_id in reachable)
    return problems
