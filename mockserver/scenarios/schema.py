"""The JSON Schema of the scenario format, for editors (yaml-language-server) to autocomplete.

Built from the readers' own tables (the step and fault registries, the keys of each mapping),
so a kind added there is in the schema too. `scenario.schema.json` beside this module is this
function's output; a test keeps them equal. Regenerate with
`python -m mockserver.scenarios.schema > mockserver/scenarios/scenario.schema.json`.
"""

from __future__ import annotations

import json
from typing import Any

from mockserver.scenarios.readers.faults import COMMON, FAULT_KINDS, FAULTS
from mockserver.scenarios.readers.steps import CALL_KINDS, STEPS, StepKind
from mockserver.scenarios.readers.team import FILE, SCENARIO


def scenario_schema() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/mockserver/mockserver/scenarios/scenario.schema.json",
        "title": "mockserver scenario file",
        "description": "A team and the scenarios it replays as AgentOS team-run streams.",
        "type": "object",
        "required": ["version", "scenarios"],
        "oneOf": [{"required": ["team"]}, {"required": ["agent"]}],
        "additionalProperties": False,
        "properties": FILE,
        "$defs": {
            "fault": _fault(),
            "scenario": {
                "type": "object",
                "required": ["name", "events"],
                "additionalProperties": False,
                "properties": SCENARIO,
            },
            "step": {"oneOf": [schema for kind in STEPS for schema in _step(kind)]},
            "call": {"oneOf": [schema for kind in STEPS if kind.key in CALL_KINDS for schema in _step(kind)]},
        },
    }


def _step(kind: StepKind) -> list[dict[str, Any]]:
    """The mapping form of a step kind, after its bare-string form when it has one."""
    mapping: dict[str, Any] = {"type": "object", "required": [kind.key, *kind.required]}
    if not kind.open:
        mapping["additionalProperties"] = False
    mapping.update(description=kind.description, properties=dict(kind.properties))
    bare = [{"type": "string", "enum": sorted(kind.names)}] if kind.names else []
    return [*bare, mapping]


def _fault() -> dict[str, Any]:
    properties = dict(COMMON)
    for kind in FAULTS:
        properties.update(kind.properties)
    return {
        "type": "object",
        "description": f"A failure injected before normal scenario selection; exactly one of {', '.join(FAULT_KINDS)}",
        "oneOf": [{"required": [kind.key]} for kind in FAULTS],
        "additionalProperties": False,
        "properties": properties,
    }


if __name__ == "__main__":
    print(json.dumps(scenario_schema(), indent=2))
