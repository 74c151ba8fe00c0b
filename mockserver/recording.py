"""Record a real AgentOS team run as a scenario file that replays it with its original timing.

`mockserver record URL --team ID --message TEXT --out FILE` posts the message the way agno's
client does (urlencoded, stream=true), notes when each frame arrives, and writes every frame as
an `event:` item whose `delay` is the time since the one before. Envelope keys are left out
(the mock fills them for each replay); every other key is kept, so the replay is lossless.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from mockserver.scenarios.loader import FORMAT_VERSION

FILLED_BY_THE_MOCK = frozenset(
    {"created_at", "event", "team_id", "team_name", "run_id", "session_id", "nested_depth", "agent_id", "agent_name", "parent_run_id"}
)


@dataclass(frozen=True)
class RecordedFrame:
    at: float
    data: dict[str, Any]


def read_frames(lines: Iterator[bytes], clock: Any = time.monotonic) -> Iterator[RecordedFrame]:
    """SSE frames as agno's client reads them (the `data:` lines), stamped on arrival."""
    start = clock()
    for raw in lines:
        line = raw.decode("utf-8").rstrip("\r\n")
        if line.startswith("data: "):
            yield RecordedFrame(at=clock() - start, data=json.loads(line[len("data: "):]))


def record(url: str, team_id: str, message: str, headers: Mapping[str, str] | None = None, timeout: float = 300) -> list[RecordedFrame]:
    body = urllib.parse.urlencode({"message": message, "stream": "true"}).encode()
    request = urllib.request.Request(f"{url.rstrip('/')}/teams/{urllib.parse.quote(team_id)}/runs", data=body, headers=dict(headers or {}), method="POST")
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the user names the URL
        return list(read_frames(iter(response.readline, b"")))


def scenario_document(frames: list[RecordedFrame], name: str) -> dict[str, Any]:
    """A scenario file (as plain data) that replays `frames` with their gaps."""
    first = frames[0].data if frames else {}
    members: dict[str, str] = {}
    events = []
    previous = 0.0
    for frame in frames:
        data = frame.data
        if "agent_id" in data:
            members.setdefault(data["agent_id"], data.get("agent_name", data["agent_id"]))
        item: dict[str, Any] = {"event": data["event"]}
        if "agent_id" in data:
            item["member"] = data["agent_id"]
        item["delay"] = f"{round((frame.at - previous) * 1000)}ms"
        previous = frame.at
        item.update({k: v for k, v in data.items() if k not in FILLED_BY_THE_MOCK})
        events.append(item)
    team: dict[str, Any] = {"id": first.get("team_id", "recorded-team"), "name": first.get("team_name", "Recorded Team")}
    if "model" in first:
        team["model"] = {"id": first["model"], "provider": first.get("model_provider", "")}
    team["members"] = [{"id": member_id, "name": member_name} for member_id, member_name in members.items()]
    return {
        "version": FORMAT_VERSION,
        "team": team,
        "scenarios": [{"name": name, "gap": 0, "model_requests": False, "events": events}],
    }


def to_yaml(document: dict[str, Any], source: str, message: str) -> str:
    header = (
        "# yaml-language-server: $schema=../mockserver/scenarios/scenario.schema.json\n"
        f"# Recorded from {source} with the message {json.dumps(message, ensure_ascii=False)}.\n"
        "# Each event's delay is the time since the one before, as it arrived.\n"
    )
    return header + yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)
