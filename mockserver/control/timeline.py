"""A run's frames against time, compact enough to keep in every journal entry.

The dashboard draws a run's timeline from its journal entry, after the run is over, so the
entry keeps what the picture needs and no more: for each frame sent, when it left (ms after the
stream started, a hold's wait included), its event, its lane (`team` or the member's agent id),
a short text (a content delta, a tool's name, an error) and the tool call it belongs to; and
the marks of the fault that shaped the delivery (a head delay, a hold, a cancel, a cut).
Frames are short lists, not dicts, so a journal of 1000 long runs stays a few MB.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mockserver.run.delivery import Delivery
from mockserver.run.plan import Frame

COLUMNS = ("at_ms", "event", "lane", "text", "call")
TEXT_LIMIT = 160
"""Characters of a frame's text kept in the timeline; the rest is cut with an ellipsis."""


def timeline_of(
    sent: list[Frame], delivery: Delivery, planned: tuple[Frame, ...], stamp: Callable[[str], str] = str
) -> dict[str, Any]:
    """The timeline of a run that sent `sent` of its `planned` frames, delivered as `delivery`;
    `stamp` puts the run's own values into a frame's text (`run/stamp.py`)."""
    frames = []
    for index, frame in enumerate(sent):
        data = frame.data
        lane = data.get("agent_id") or "team"
        tool = data.get("tool") if isinstance(data.get("tool"), dict) else None
        call = tool.get("tool_call_id") if tool else None
        at = frame.at + _shift(delivery, index)
        text = _text(frame.event, data, tool)
        frames.append([_ms(at), frame.event, lane, text if text is None else stamp(text), call])
    marks = _marks(sent, delivery, planned)
    return {"columns": list(COLUMNS), "frames": frames, "planned": len(planned), "marks": marks}


def restamped(timeline: dict[str, Any], stamp: Callable[[str], str]) -> dict[str, Any]:
    """`timeline` (made with no stamp) with `stamp` put into its texts: the rows whose text it
    leaves as it is are shared, so runs of one kept plan hold one copy of them."""
    rows = []
    for row in timeline["frames"]:
        text = row[3]
        stamped = text if text is None else stamp(text)
        rows.append(row if stamped is text else [*row[:3], stamped, row[4]])
    return {**timeline, "frames": rows}


def _shift(delivery: Delivery, index: int) -> float:
    """How much later than planned frame `index` left: a hold delays every frame from its own on."""
    if delivery.hold_at is None or index < delivery.hold_at or delivery.holds_forever:
        return 0.0
    return delivery.hold


def _text(event: str, data: dict[str, Any], tool: dict[str, Any] | None) -> str | None:
    if tool is not None:
        text = str(tool.get("tool_name") or "")
    elif isinstance(data.get("content"), str) and (event.endswith("Content") or event.endswith("Error")):
        text = data["content"]
    elif event.endswith("ReasoningStep") and isinstance(data.get("content"), dict):
        text = str(data["content"].get("title") or "")
    elif event == "RunStarted" and data.get("agent_name"):
        text = str(data["agent_name"])
    else:
        return None
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


def _marks(sent: list[Frame], delivery: Delivery, planned: tuple[Frame, ...]) -> list[dict[str, Any]]:
    marks: list[dict[str, Any]] = []
    if delivery.head_delay > 0:
        marks.append({"kind": "head_delay", "at_ms": 0.0, "ms": _ms(delivery.head_delay)})
    index = delivery.hold_at
    if index is not None and index < len(planned) and index <= len(sent):
        hold = None if delivery.holds_forever else _ms(delivery.hold)
        marks.append({"kind": "hold", "at_ms": _ms(planned[index].at), "ms": hold, "frame": index})
    index = delivery.cancel_at
    if index is not None and index < len(planned) and index <= len(sent):
        marks.append({"kind": "cancel", "at_ms": _ms(planned[index].at + _shift(delivery, index)), "frame": index})
    index = delivery.cut_at
    if index is not None and 0 < index <= len(sent):
        marks.append({"kind": "cut", "at_ms": _ms(sent[index - 1].at + _shift(delivery, index - 1)), "frame": index})
    return marks


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
