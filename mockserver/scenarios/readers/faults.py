"""A file's `faults:` list, each kind of fault declared once in `FAULTS`.

An entry names the key that marks the kind, the function that reads its action, and the JSON
Schema of the key and of the options that go with it. The keys every rule may have
(`team`, `match`, `latency`, `times`, `per`, `probability`) are read here for all kinds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from mockserver.scenarios.faultrules import Action, Cancel, Cut, Drop, FaultRule, HttpFailure, RunError, Slow, Stall
from mockserver.scenarios.model import Team
from mockserver.scenarios.problems import Problem
from mockserver.scenarios.readers.fields import DURATION_SCHEMA, Reader, parse_duration, plain
from mockserver.scenarios.yamlsource import LineDict, LineList, line_of

_TEAM_GLOB = re.compile(r"[A-Za-z0-9._~*?!\[\]-]+")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")

FaultReader = Callable[[Reader, LineDict, str], Action | None]


@dataclass(frozen=True)
class FaultKind:
    key: str
    read: FaultReader
    """Reads the action from the rule's mapping (`where` names the rule)."""
    properties: Mapping[str, Any]
    """JSON Schema of its own key, then of the options that go with it."""
    head_delay: bool = False
    """Its value is the wait before the response head, so it takes the place of `latency`."""

    @property
    def options(self) -> tuple[str, ...]:
        return tuple(self.properties)[1:]


COMMON: dict[str, Any] = {
    "team": {
        "description": "Team id or glob (error-*), or a list of them; default: this file's team",
        "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}],
    },
    "match": {"type": "string", "description": "A regular expression searched in the message"},
    "latency": {**DURATION_SCHEMA, "description": "Wait before the response head"},
    "times": {"type": "integer", "minimum": 1, "description": "Fail only the first N requests, then succeed"},
    "per": {"enum": ["team", "session"], "description": "What `times` counts per"},
    "probability": {
        "type": "number",
        "exclusiveMinimum": 0,
        "maximum": 1,
        "description": "Fail this share of requests (seeded)",
    },
}
_AFTER = {
    "description": "Where a stream fault strikes: a number of events, or a time into the stream (1.5s)",
    "oneOf": [{"type": "integer", "minimum": 0}, DURATION_SCHEMA["oneOf"][1]],
}


def read_faults(reader: Reader, document: LineDict, team_id: str) -> tuple[FaultRule, ...]:
    items = document["faults"]
    if not isinstance(items, LineList):
        reader.problem(
            line_of(document, "faults"),
            f"faults: expected a list of fault rules, each with one of the keys {', '.join(FAULT_KINDS)}",
        )
        return ()
    rules = (
        read_fault(reader, item, line_of(items, index), f"{team_id}/faults[{index}]", team_id)
        for index, item in enumerate(items)
    )
    return tuple(rule for rule in rules if rule is not None)


def read_fault(reader: Reader, doc: Any, line: int, key: str, team_id: str) -> FaultRule | None:
    where = key.split("/", 1)[1]
    if not isinstance(doc, LineDict):
        reader.problem(line, f"{where}: expected a mapping with one of the keys {', '.join(FAULT_KINDS)}")
        return None
    found = [kind for kind in FAULTS if kind.key in doc]
    if len(found) != 1:
        names = ", ".join(kind.key for kind in found) or "none"
        reader.problem(doc.line, f"{where}: expected exactly one of the keys {', '.join(FAULT_KINDS)}; found {names}")
        return None
    kind = found[0]
    _known_keys(reader, doc, kind, where)
    before = len(reader.problems)
    action = kind.read(reader, doc, where)
    teams = _teams(reader, doc, where, team_id)
    match = reader.pattern(doc, where, empty=False)
    cut = _cut(reader, doc, where)
    latency = reader.duration(doc, "latency", where) or 0.0
    if kind.head_delay:
        latency = parse_duration(doc[kind.key]) or 0.0
    times = doc.get("times")
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
        reader.problem(
            line_of(doc, "times"),
            (
                f"{where}.times: expected a whole number >= 1 (the fault hits the first N requests, then they "
                f"succeed), got {times!r}"
            ),
        )
        times = None
    per = doc.get("per", "team")
    if per not in ("team", "session"):
        reader.problem(line_of(doc, "per"), f"{where}.per: expected team or session, got {per!r}")
        per = "team"
    elif "per" in doc and "times" not in doc:
        reader.problem(
            line_of(doc, "per"),
            f"{where}.per: only goes with `times` (count the first N requests per team or per session)",
        )
    probability = doc.get("probability")
    if probability is not None:
        if isinstance(probability, bool) or not isinstance(probability, (int, float)) or not 0 < probability <= 1:
            reader.problem(
                line_of(doc, "probability"),
                (
                    f"{where}.probability: expected a number above 0 and at most 1 (0.25 = one request in four), got "
                    f"{probability!r}"
                ),
            )
            probability = None
        elif "times" in doc:
            reader.problem(line_of(doc, "probability"), f"{where}: give `times` or `probability`, not both")
    if len(reader.problems) > before or action is None:
        return None
    return FaultRule(
        key=key,
        kind=kind.key,
        action=action,
        teams=teams,
        match=match,
        cut=cut,
        latency=latency,
        times=times,
        per=per,
        probability=None if probability is None else float(probability),
        where=f"{reader.file}:{doc.line}",
    )


def _known_keys(reader: Reader, doc: LineDict, kind: FaultKind, where: str) -> None:
    common = [name for name in COMMON if not (kind.head_delay and name == "latency")]
    allowed = (kind.key, *common, *kind.options)
    for name in doc:
        if name in allowed:
            continue
        owners = [other.key for other in FAULTS if name in other.options]
        if owners:
            reader.problem(line_of(doc, name), f"{where}.{name}: goes with {' or '.join(owners)}, not with {kind.key}")
        elif name in COMMON:
            reader.problem(
                line_of(doc, name),
                f"{where}.{name}: `{kind.key}` is itself the wait before the response head; drop `{name}`",
            )
        else:
            reader.problem(line_of(doc, name), f"unknown key {name!r} in {where}; expected one of {', '.join(allowed)}")


def _teams(reader: Reader, doc: LineDict, where: str, team_id: str) -> tuple[str, ...]:
    value = doc.get("team", team_id)
    patterns = [value] if isinstance(value, str) else value
    if not isinstance(patterns, list) or not patterns or not all(isinstance(p, str) for p in patterns):
        reader.problem(
            line_of(doc, "team"),
            f"{where}.team: expected a team id or glob (error-*), or a list of them, got {value!r}",
        )
        return (team_id,)
    for pattern in patterns:
        reason = _glob_problem(pattern)
        if reason:
            reader.problem(
                line_of(doc, "team"),
                (
                    f"{where}.team: bad glob {pattern!r}: {reason}; expected a team id or a pattern such as error-* "
                    f"or team-[ab]"
                ),
            )
    return tuple(patterns)


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


def _cut(reader: Reader, doc: LineDict, where: str) -> Cut:
    if "after" not in doc:
        return Cut()
    value = doc["after"]
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            reader.problem(
                line_of(doc, "after"),
                f"{where}.after: negative count {value}; expected a number of events >= 0 or a time such as 1.5s",
            )
            return Cut()
        return Cut(events=value)
    seconds = parse_duration(value) if isinstance(value, str) else None
    if seconds is None:
        reader.problem(
            line_of(doc, "after"),
            f"{where}.after: expected a number of events (3) or a time into the stream (1.5s, 250ms), got {value!r}",
        )
        return Cut()
    return Cut(seconds=seconds)


def read_status(reader: Reader, doc: LineDict, where: str) -> HttpFailure | None:
    status = doc["status"]
    if (
        isinstance(status, bool)
        or not isinstance(status, int)
        or not 400 <= status <= 599
        or status not in HTTPStatus._value2member_map_
    ):
        reader.problem(
            line_of(doc, "status"),
            (
                f"{where}.status: unknown status {status!r}; expected an HTTP error status from 400 to 599 such as "
                f"401, 429, 500 or 503"
            ),
        )
        return None
    detail = doc.get("detail")
    if detail is not None and not isinstance(detail, str):
        reader.problem(line_of(doc, "detail"), f"{where}.detail: expected a string (the error message), got {detail!r}")
    headers = doc.get("headers", {})
    if not isinstance(headers, dict):
        reader.problem(
            line_of(doc, "headers"),
            f"{where}.headers: expected a mapping of header names to values, e.g. Retry-After: 30",
        )
        headers = {}
    pairs = []
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            reader.problem(line_of(headers, name), f"{where}.headers: bad header name {name!r}")
        elif (
            isinstance(value, bool) or not isinstance(value, (str, int, float)) or any(c in str(value) for c in "\r\n")
        ):
            reader.problem(
                line_of(headers, name), f"{where}.headers.{name}: expected a one-line string or number, got {value!r}"
            )
        else:
            pairs.append((name, str(value)))
    return HttpFailure(
        status=status,
        detail=detail if isinstance(detail, str) else None,
        body=plain(doc.get("body")),
        headers=tuple(pairs),
    )


def read_error(reader: Reader, doc: LineDict, where: str) -> RunError | None:
    content = doc["error"]
    if not isinstance(content, str) or not content:
        reader.problem(
            line_of(doc, "error"), f"{where}.error: expected the error message (a non-empty string), got {content!r}"
        )
        return None
    error_type = doc.get("error_type", "RuntimeError")
    error_id = doc.get("error_id")
    for name, value in (("error_type", error_type), ("error_id", error_id)):
        if value is not None and not (isinstance(value, str) and value):
            reader.problem(line_of(doc, name), f"{where}.{name}: expected a non-empty string, got {value!r}")
    return RunError(content=content, error_type=str(error_type), error_id=error_id)


def _flag(reader: Reader, doc: LineDict, key: str, where: str) -> bool:
    if doc[key] is not True:
        reader.problem(line_of(doc, key), f"{where}.{key}: expected true, got {doc[key]!r}")
        return False
    return True


def read_drop(reader: Reader, doc: LineDict, where: str) -> Drop | None:
    return Drop() if _flag(reader, doc, "drop", where) else None


def read_cancel(reader: Reader, doc: LineDict, where: str) -> Cancel | None:
    return Cancel() if _flag(reader, doc, "cancel", where) else None


def read_stall(reader: Reader, doc: LineDict, where: str) -> Stall | None:
    value = doc["stall"]
    hold = None if value is True else parse_duration(value)
    if value is not True and not hold:
        reader.problem(
            line_of(doc, "stall"),
            f"{where}.stall: expected true (until the client gives up) or how long to hold, e.g. 30s; got {value!r}",
        )
        return None
    keep_alive = reader.duration(doc, "keep_alive", where)
    if keep_alive == 0:
        reader.problem(
            line_of(doc, "keep_alive"), f"{where}.keep_alive: expected a time above 0 between comments, e.g. 5s"
        )
        keep_alive = None
    return Stall(hold=hold, keep_alive=keep_alive)


def read_slow(reader: Reader, doc: LineDict, where: str) -> Slow | None:
    if not parse_duration(doc["slow"]):
        reader.problem(
            line_of(doc, "slow"),
            f"{where}.slow: expected the wait before the response head, e.g. 3s or 800ms; got {doc['slow']!r}",
        )
        return None
    return Slow()


FAULTS: tuple[FaultKind, ...] = (
    FaultKind(
        "status",
        read_status,
        {
            "status": {
                "type": "integer",
                "minimum": 400,
                "maximum": 599,
                "description": "Answer with this HTTP error status",
            },
            "detail": {"type": "string", "description": "The error message in the active error format"},
            "body": {"description": "The whole response body instead (a string is sent as text)"},
            "headers": {"type": "object", "additionalProperties": {"type": ["string", "number"]}},
        },
    ),
    FaultKind(
        "error",
        read_error,
        {
            "error": {
                "type": "string",
                "minLength": 1,
                "description": "End the stream with TeamRunError and this message",
            },
            "error_type": {"type": "string"},
            "error_id": {"type": "string"},
            "after": _AFTER,
        },
    ),
    FaultKind(
        "drop",
        read_drop,
        {"drop": {"const": True, "description": "Close the connection without a final frame"}, "after": _AFTER},
    ),
    FaultKind(
        "stall",
        read_stall,
        {
            "stall": {
                "description": "Go silent: true (until the client leaves) or how long",
                "oneOf": [{"const": True}, DURATION_SCHEMA],
            },
            "keep_alive": {**DURATION_SCHEMA, "description": "Send ': keep-alive' comments this often while stalled"},
            "after": _AFTER,
        },
    ),
    FaultKind(
        "cancel",
        read_cancel,
        {"cancel": {"const": True, "description": "End with TeamRunCancelled then TeamRunCompleted"}, "after": _AFTER},
    ),
    FaultKind(
        "slow",
        read_slow,
        {"slow": {**DURATION_SCHEMA, "description": "Wait this long before the response head, then answer normally"}},
        head_delay=True,
    ),
)
FAULT_KINDS = tuple(kind.key for kind in FAULTS)


def check_reach(teams: Mapping[str, Team]) -> list[Problem]:
    """Rules that can never fire: they name no loaded team, or an earlier rule that always fires
    (no `match`, `times` or `probability`) already takes every team they name. Rules are tried
    in file order, then in the order of each file's `faults:` list."""
    problems = []
    taken: dict[str, FaultRule] = {}
    for rule in (rule for team in teams.values() for rule in team.faults):
        file, _, line = rule.where.rpartition(":")
        where = rule.key.split("/", 1)[1]
        covered = [team_id for team_id in teams if rule.covers(team_id)]
        reachable = [team_id for team_id in covered if team_id not in taken]
        if not covered:
            known = ", ".join(sorted(teams))
            message = (
                f"{where}: team {' '.join(rule.teams)!r} matches no team, so the rule can never fire; teams are {known}"
            )
            problems.append(Problem(file, int(line), message))
        elif not reachable:
            first = taken[covered[0]]
            message = (
                f"{where}: can never fire: every team it covers ({', '.join(covered)}) is already taken by the "
                f"rule at {first.where}, "
                "which always fires; give that rule a match, times or probability, or put this one first"
            )
            problems.append(Problem(file, int(line), message))
        if rule.always:
            taken.update((team_id, rule) for team_id in reachable)
    return problems
