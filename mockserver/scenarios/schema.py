"""The JSON Schema of the scenario format, for editors (yaml-language-server) to autocomplete.

`scenario.schema.json` beside this module is this function's output; a test keeps them equal.
Regenerate with `python -m mockserver.scenarios.schema > mockserver/scenarios/scenario.schema.json`.
"""

from __future__ import annotations

import json
from typing import Any

from mockserver.agentos.events import EVENTS
from mockserver.scenarios.loader import FORMAT_VERSION

DURATION = {
    "description": "A duration: 250ms, 1.5s, or a number of seconds",
    "oneOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*(ms|s)\s*$"}],
}
PACE = {
    "description": "How fast text streams: '20 words/s', '60 tokens/s' or '40ms per word'",
    "type": "string",
    "pattern": r"^\s*(\d+(\.\d+)?\s*(words|tokens)\s*/\s*s|\d+(\.\d+)?\s*(ms|s)\s+per\s+(word|token))\s*$",
}
MODEL = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "provider": {"type": "string"}},
    "additionalProperties": False,
}

FAULT = {
    "type": "object",
    "description": "A failure injected before normal scenario selection; exactly one of status, error, drop, stall, cancel, slow",
    "oneOf": [{"required": [kind]} for kind in ("status", "error", "drop", "stall", "cancel", "slow")],
    "additionalProperties": False,
    "properties": {
        "team": {
            "description": "Team id or glob (error-*), or a list of them; default: this file's team",
            "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}],
        },
        "match": {"type": "string", "description": "A regular expression searched in the message"},
        "latency": {**DURATION, "description": "Wait before the response head"},
        "times": {"type": "integer", "minimum": 1, "description": "Fail only the first N requests, then succeed"},
        "per": {"enum": ["team", "session"], "description": "What `times` counts per"},
        "probability": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "description": "Fail this share of requests (seeded)"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599, "description": "Answer with this HTTP error status"},
        "detail": {"type": "string", "description": "The error message in the active error format"},
        "body": {"description": "The whole response body instead (a string is sent as text)"},
        "headers": {"type": "object", "additionalProperties": {"type": ["string", "number"]}},
        "error": {"type": "string", "minLength": 1, "description": "End the stream with TeamRunError and this message"},
        "error_type": {"type": "string"},
        "error_id": {"type": "string"},
        "drop": {"const": True, "description": "Close the connection without a final frame"},
        "stall": {"description": "Go silent: true (until the client leaves) or how long", "oneOf": [{"const": True}, DURATION]},
        "keep_alive": {**DURATION, "description": "Send ': keep-alive' comments this often while stalled"},
        "cancel": {"const": True, "description": "End with TeamRunCancelled then TeamRunCompleted"},
        "slow": {**DURATION, "description": "Wait this long before the response head, then answer normally"},
        "after": {
            "description": "Where a stream fault strikes: a number of events, or a time into the stream (1.5s)",
            "oneOf": [{"type": "integer", "minimum": 0}, DURATION["oneOf"][1]],
        },
    },
}


def scenario_schema() -> dict[str, Any]:
    step_ref = {"$ref": "#/$defs/step"}
    steps = {"type": "array", "items": step_ref}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/mockserver/mockserver/scenarios/scenario.schema.json",
        "title": "mockserver scenario file",
        "description": "A team and the scenarios it replays as AgentOS team-run streams.",
        "type": "object",
        "required": ["version", "team", "scenarios"],
        "additionalProperties": False,
        "properties": {
            "version": {"const": FORMAT_VERSION},
            "team": {
                "type": "object",
                "required": ["id"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": "^[A-Za-z0-9._~-]+$", "description": "The team_id in POST /teams/{team_id}/runs"},
                    "name": {"type": "string"},
                    "description": {"type": "string"},
                    "model": MODEL,
                    "members": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["id"],
                            "additionalProperties": False,
                            "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "role": {"type": "string"}, "model": MODEL},
                        },
                    },
                },
            },
            "scenarios": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/scenario"}},
            "faults": {"type": "array", "items": {"$ref": "#/$defs/fault"}},
        },
        "$defs": {
            "fault": FAULT,
            "scenario": {
                "type": "object",
                "required": ["name", "events"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string"},
                    "match": {"type": "string", "description": "A regular expression searched in the message; first match wins"},
                    "gap": DURATION,
                    "jitter": DURATION,
                    "pace": PACE,
                    "model_requests": {"type": "boolean", "description": "Add ModelRequestStarted/Completed around text and tool calls"},
                    "events": {**steps, "minItems": 1},
                },
            },
            "step": {
                "oneOf": [
                    {"type": "string", "enum": sorted(EVENTS)},
                    {
                        "type": "object",
                        "required": ["event"],
                        "description": "One AgentOS event; any other key goes on the wire as given",
                        "properties": {"event": {"enum": sorted(EVENTS)}, "member": {"type": "string"}, "delay": DURATION},
                    },
                    {
                        "type": "object",
                        "required": ["text"],
                        "additionalProperties": False,
                        "description": "A whole answer, streamed as content deltas",
                        "properties": {
                            "text": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]},
                            "pace": PACE,
                            "delay": DURATION,
                        },
                    },
                    {
                        "type": "object",
                        "required": ["tool"],
                        "additionalProperties": False,
                        "description": "A tool call: Started, then Completed with the result",
                        "properties": {
                            "tool": {"type": "string"},
                            "args": {"type": "object"},
                            "result": {},
                            "error": {"type": "boolean"},
                            "duration": DURATION,
                            "delay": DURATION,
                        },
                    },
                    {
                        "type": "object",
                        "required": ["reasoning"],
                        "additionalProperties": False,
                        "properties": {
                            "reasoning": {
                                "type": "array",
                                "items": {
                                    "oneOf": [
                                        {"type": "string"},
                                        {
                                            "type": "object",
                                            "required": ["title"],
                                            "additionalProperties": False,
                                            "properties": {
                                                "title": {"type": "string"},
                                                "reasoning": {"type": "string"},
                                                "action": {"type": "string"},
                                                "result": {"type": "string"},
                                                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                                                "next_action": {"type": "string"},
                                            },
                                        },
                                    ]
                                },
                            },
                            "delay": DURATION,
                        },
                    },
                    {
                        "type": "object",
                        "required": ["delegate", "task"],
                        "additionalProperties": False,
                        "description": "Hand a task to a member; its events stream inside the team run",
                        "properties": {"delegate": {"type": "string"}, "task": {"type": "string"}, "events": steps, "delay": DURATION},
                    },
                ]
            },
        },
    }


if __name__ == "__main__":
    print(json.dumps(scenario_schema(), indent=2))
