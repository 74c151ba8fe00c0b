"""One file's document as a Team: version, team, members, scenarios, sequence and faults.

The keys of each mapping sit beside their JSON Schema (`FILE`, `TEAM`, `SCENARIO`), which
`schema.py` puts together with the step and fault kinds.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from mockserver.scenarios.model import Member, ModelInfo, Pace, Scenario, Team, Timing
from mockserver.scenarios.readers.faults import read_faults
from mockserver.scenarios.readers.fields import DURATION_SCHEMA, PACE_SCHEMA, Reader
from mockserver.scenarios.readers.steps import read_steps
from mockserver.scenarios.yamlsource import LineDict, LineList, line_of

FORMAT_VERSION = 1
_TEAM_ID = re.compile(r"[A-Za-z0-9._~-]+")

MODEL: dict[str, Any] = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "provider": {"type": "string"}},
    "additionalProperties": False,
}
MEMBER: dict[str, Any] = {
    "id": {"type": "string"},
    "name": {"type": "string"},
    "role": {"type": "string"},
    "model": MODEL,
}
TEAM: dict[str, Any] = {
    "id": {
        "type": "string",
        "pattern": f"^{_TEAM_ID.pattern}$",
        "description": "The team_id in POST /teams/{team_id}/runs",
    },
    "name": {"type": "string"},
    "description": {"type": "string"},
    "model": MODEL,
    "members": {
        "type": "array",
        "items": {"type": "object", "required": ["id"], "additionalProperties": False, "properties": MEMBER},
    },
}
SCENARIO: dict[str, Any] = {
    "name": {"type": "string"},
    "match": {"type": "string", "description": "A regular expression searched in the message; first match wins"},
    "gap": DURATION_SCHEMA,
    "jitter": DURATION_SCHEMA,
    "pace": PACE_SCHEMA,
    "model_requests": {
        "type": "boolean",
        "description": "Add ModelRequestStarted/Completed around text and tool calls",
    },
    "events": {"type": "array", "items": {"$ref": "#/$defs/step"}, "minItems": 1},
}
AGENT: dict[str, Any] = {
    "id": {
        "type": "string",
        "pattern": f"^{_TEAM_ID.pattern}$",
        "description": "The agent_id in POST /agents/{agent_id}/runs",
    },
    "name": {"type": "string"},
    "description": {"type": "string"},
    "model": MODEL,
}
FILE: dict[str, Any] = {
    "version": {"const": FORMAT_VERSION},
    "team": {"type": "object", "required": ["id"], "additionalProperties": False, "properties": TEAM},
    "agent": {
        "type": "object",
        "required": ["id"],
        "additionalProperties": False,
        "properties": AGENT,
        "description": "A stand-alone agent instead of a team: the same scenarios, without delegation",
    },
    "scenarios": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/scenario"}},
    "sequence": {
        "type": "array",
        "minItems": 1,
        "items": {"type": "string"},
        "description": "Scenario names played in turn, one per run of the team; the last repeats",
    },
    "faults": {"type": "array", "items": {"$ref": "#/$defs/fault"}},
}


def read_file(reader: Reader, document: Any) -> Team | None:
    """The file's team, or None when a problem was found (all of them are in `reader`)."""
    if not isinstance(document, LineDict):
        reader.problem(1, "expected a mapping with keys version, team, scenarios")
        return None
    reader.known_keys(document, tuple(FILE), "the file")
    version = document.get("version")
    if version != FORMAT_VERSION:
        reader.problem(line_of(document, "version"), f"version: expected {FORMAT_VERSION}, got {version!r}")
    if "agent" in document:
        if "team" in document:
            reader.problem(line_of(document, "agent"), "agent: a file defines a team or an agent, not both")
            return None
        reader.kind = "agent"
        team_doc = document.get("agent")
        if not isinstance(team_doc, LineDict):
            reader.problem(line_of(document, "agent"), "agent: expected a mapping with id, name, description, model")
            return None
    else:
        team_doc = document.get("team")
        if not isinstance(team_doc, LineDict):
            reader.problem(line_of(document, "team"), "team: expected a mapping with id, name, members (or agent:)")
            return None
    scenarios_doc = document.get("scenarios")
    if not isinstance(scenarios_doc, LineList) or not scenarios_doc:
        reader.problem(line_of(document, "scenarios"), "scenarios: expected a list with at least one scenario")
        return None
    team = _read_team(reader, team_doc, scenarios_doc)
    if "sequence" in document:
        team = replace(team, sequence=_read_sequence(reader, document, team))
    if "faults" in document:
        team = replace(team, faults=read_faults(reader, document, team.id))
    return team if not reader.problems else None


def _read_team(reader: Reader, doc: LineDict, scenarios_doc: LineList) -> Team:
    kind = reader.kind
    reader.known_keys(doc, tuple(TEAM if kind == "team" else AGENT), kind)
    team_id = reader.string(doc, "id", kind, required=True)
    if team_id and not _TEAM_ID.fullmatch(team_id):
        reader.problem(
            line_of(doc, "id"),
            f"{kind}.id: {team_id!r} cannot be used in a URL path; use letters, digits, '-', '_', '.'",
        )
    members = _read_members(reader, doc) if kind == "team" else ()
    scenarios = tuple(
        scenario
        for index, item in enumerate(scenarios_doc)
        if (scenario := _read_scenario(reader, item, line_of(scenarios_doc, index), index)) is not None
    )
    names = [s.name for s in scenarios]
    for name in {n for n in names if names.count(n) > 1}:
        reader.problem(scenarios_doc.line, f"scenarios: duplicate scenario name {name!r}")
    if scenarios and all(s.match is not None for s in scenarios):
        reader.problem(
            scenarios_doc.line,
            "scenarios: no default scenario; give one scenario without `match` (used when no match fits)",
        )
    return Team(
        id=team_id,
        name=reader.string(doc, "name", kind, default=team_id),
        description=reader.string(doc, "description", kind),
        model=_model_info(reader, doc, kind) or ModelInfo(),
        members=members,
        scenarios=scenarios,
        source=reader.file,
        kind=kind,
    )


def _read_members(reader: Reader, doc: LineDict) -> tuple[Member, ...]:
    items = doc.get("members", LineList())
    if not isinstance(items, LineList):
        reader.problem(line_of(doc, "members"), "team.members: expected a list of {id, name, role}")
        return ()
    for index, item in enumerate(items):
        where = f"team.members[{index}]"
        if not isinstance(item, LineDict):
            reader.problem(line_of(items, index), f"{where}: expected a mapping with id, name, role")
            continue
        reader.known_keys(item, tuple(MEMBER), where)
        member_id = reader.string(item, "id", where, required=True)
        if member_id in reader.members:
            reader.problem(line_of(item, "id"), f"{where}.id: duplicate member id {member_id!r}")
        reader.members[member_id] = Member(
            id=member_id,
            name=reader.string(item, "name", where, default=member_id.replace("-", " ").title()),
            role=reader.string(item, "role", where),
            model=_model_info(reader, item, where),
        )
    return tuple(reader.members.values())


def _model_info(reader: Reader, mapping: LineDict, where: str) -> ModelInfo | None:
    value = mapping.get("model")
    if value is None:
        return None
    if not isinstance(value, LineDict):
        reader.problem(line_of(mapping, "model"), f"{where}.model: expected a mapping with id and provider")
        return None
    reader.known_keys(value, ("id", "provider"), f"{where}.model")
    return ModelInfo(
        id=reader.string(value, "id", f"{where}.model", default="gpt-4o"),
        provider=reader.string(value, "provider", f"{where}.model", default="OpenAI"),
    )


def _read_scenario(reader: Reader, doc: Any, line: int, index: int) -> Scenario | None:
    where = f"scenarios[{index}]"
    if not isinstance(doc, LineDict):
        reader.problem(line, f"{where}: expected a mapping with name, events")
        return None
    reader.known_keys(doc, tuple(SCENARIO), where)
    name = reader.string(doc, "name", where, required=True) or f"scenario-{index}"
    where = f"scenario {name!r}"
    match = reader.pattern(doc, where)
    pace = Pace()
    if "pace" in doc:
        pace = reader.pace(doc, where) or pace
    model_requests = doc.get("model_requests", True)
    if not isinstance(model_requests, bool):
        reader.problem(line_of(doc, "model_requests"), f"{where}.model_requests: expected true or false")
        model_requests = True
    gap = reader.duration(doc, "gap", where)
    jitter = reader.duration(doc, "jitter", where)
    timing = Timing(gap=Timing.gap if gap is None else gap, jitter=Timing.jitter if jitter is None else jitter)
    events = doc.get("events")
    if not isinstance(events, LineList) or not events:
        reader.problem(line_of(doc, "events"), f"{where}.events: expected a list with at least one event")
        return None
    return Scenario(
        name=name,
        steps=read_steps(reader, events, where, member=None),
        match=match,
        timing=timing,
        pace=pace,
        model_requests=model_requests,
        where=f"{reader.file}:{doc.line}",
    )


def _read_sequence(reader: Reader, document: LineDict, team: Team) -> tuple[str, ...]:
    items = document["sequence"]
    names = [s.name for s in team.scenarios]
    if not isinstance(items, LineList) or not items:
        reader.problem(
            line_of(document, "sequence"),
            f"sequence: expected a list of scenario names, one per run; the team's are {', '.join(names)}",
        )
        return ()
    for index, name in enumerate(items):
        if name not in names:
            reader.problem(
                line_of(items, index),
                f"sequence[{index}]: no scenario {name!r} in team {team.id!r}; expected one of {', '.join(names)}",
            )
    return tuple(str(name) for name in items)
