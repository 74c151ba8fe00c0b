"""A plan is made once for every run of the same request; a stamp makes it one run's own.

What differs between two runs of one request (same team, scenario, message, seed and speed) is
a handful of values: the run and session ids, the ids drawn for member runs and messages, and
the wall clock. The planner writes a mark in each of those places (an id mark, or a time mark
holding its offset from the run's start), so the plan itself is the same for every such run and
is built once (`run/plans.py`). Everything between the plan and the wire works on the marked
values: the player, the fold, the faults, the encoders. The pipeline stamps the bytes on their
way out, and the session store stamps a run when it is read.

A mark is `\\ue000` + this process's random nonce + a kind letter + its payload + `\\ue001`:
private-use characters and a nonce nobody can guess, so no client text can pose as one.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from mockserver.run.plan import Frame, Plan, RunContext

OPEN, CLOSE = "\ue000", "\ue001"
PREFIX = OPEN + secrets.token_hex(4)

RUN_ID = f"{PREFIX}r{CLOSE}"
"""Where the run's id goes."""
SESSION_ID = f"{PREFIX}s{CLOSE}"
"""Where the run's session id goes."""

_MARKS = re.compile(rf"{PREFIX}([rsutfi])([^{CLOSE}]*){CLOSE}")
_PREFIX_BYTES = PREFIX.encode()
_CLOSE_BYTES = CLOSE.encode()
_MARK_BYTES = re.compile(re.escape(_PREFIX_BYTES) + b"[rsutfi][^\\xee]*" + re.escape(_CLOSE_BYTES))


def drawn_id(number: int) -> str:
    """Where the `number`th id the plan draws (a member run's, a message's) goes: a new UUID a run."""
    return f"{PREFIX}u{number}{CLOSE}"


def created_at(offset: float) -> str:
    """Where a `created_at` goes: whole seconds of the wall clock `offset` seconds into the run."""
    return f"{PREFIX}t{offset!r}{CLOSE}"


def moment(offset: float) -> str:
    """Where a precise time goes (a tool's `start_time`): epoch seconds to six places."""
    return f"{PREFIX}f{offset!r}{CLOSE}"


def iso_at(offset: float) -> str:
    """Where an ISO time goes (`2026-12-01T12:00:00Z`), `offset` seconds into the run."""
    return f"{PREFIX}i{offset!r}{CLOSE}"


def iso_of(value: Any) -> str:
    """A `created_at` as an ISO time: a mark's as a mark of the same instant, epoch seconds as such."""
    if isinstance(value, str) and value.startswith(PREFIX + "t"):
        return f"{PREFIX}i{value[len(PREFIX) + 1 :]}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return iso(value)
    return iso_at(0.0)


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(int(timestamp), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def ascii_json(value: Any) -> str:
    """`json.dumps(value)` as agno calls it (ASCII escapes), with marks left whole for the stamp.

    Only U+E000 and U+E001 stay raw, which JSON reads back as the same text.
    """
    return json.dumps(value).replace("\\ue000", OPEN).replace("\\ue001", CLOSE)


def shape_of(context: RunContext) -> RunContext:
    """The context a plan is made from: the request's values, with marks for the run's own."""
    return replace(context, run_id=RUN_ID, session_id=SESSION_ID, started_at=0.0)


class Stamp:
    """One run's own values, put in for the marks of its plan."""

    def __init__(self, context: RunContext) -> None:
        self.context = context
        self._ids: dict[str, str] = {}
        """The ids drawn for this run, by their number: a stored run read later shows the same."""

    def value_of(self, kind: str, payload: str) -> str | int | float:
        if kind == "r":
            return self.context.run_id
        if kind == "s":
            return self.context.session_id
        if kind == "u":
            drawn = self._ids.get(payload)
            if drawn is None:
                drawn = self._ids[payload] = str(uuid.uuid4())
            return drawn
        offset = float(payload)
        if kind == "t":
            return int(self.context.started_at + offset)
        if kind == "f":
            return round(self.context.started_at + offset, 6)
        return iso(self.context.started_at + offset)

    def _text_of(self, match: re.Match[str]) -> str:
        return str(self.value_of(match.group(1), match.group(2)))

    def wire(self, chunk: bytes) -> bytes:
        """Encoded output with this run's values in.

        A chunk holds few distinct marks however often each comes (every envelope has the run
        id), so each is swapped in with `bytes.replace`, at C speed; a time mark that is a whole
        JSON string (quoted, or quoted inside JSON encoded again) loses its quotes.
        """
        if _PREFIX_BYTES not in chunk:
            return chunk
        for mark in set(_MARK_BYTES.findall(chunk)):
            kind, payload = chr(mark[len(_PREFIX_BYTES)]), mark[len(_PREFIX_BYTES) + 1 : -len(_CLOSE_BYTES)].decode()
            value = str(self.value_of(kind, payload)).encode()
            if kind in "tf":
                chunk = chunk.replace(b'"' + mark + b'"', value).replace(b'\\"' + mark + b'\\"', value)
            chunk = chunk.replace(mark, value)
        return chunk

    def text(self, text: str) -> str:
        """Plain text with this run's values in (a time as its digits)."""
        return _MARKS.sub(self._text_of, text) if OPEN in text else text

    def data(self, value: Any) -> Any:
        """A copy of `value` with this run's values in: a whole time mark becomes its number."""
        if isinstance(value, str):
            if OPEN not in value:
                return value
            whole = _MARKS.fullmatch(value)
            if whole is not None and whole.group(1) in "tf":  # a time: its number
                return self.value_of(whole.group(1), whole.group(2))
            return self.text(value)
        if isinstance(value, dict):
            return {key: self.data(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.data(item) for item in value]
        if isinstance(value, tuple):
            return tuple(self.data(item) for item in value)
        return value

    def frame(self, frame: Frame) -> Frame:
        return Frame(at=frame.at, event=frame.event, data=self.data(frame.data))

    def plan(self, plan: Plan) -> Plan:
        """The plan as this run plays it, every value its own (for a look at it; runs keep the marks)."""
        return Plan(
            self.context,
            tuple(self.frame(f) for f in plan.frames),
            tuple(self.data(r) for r in plan.member_responses),
            head=plan.head,
        )
