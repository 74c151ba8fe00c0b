"""One scenario file per recorded team, rewritten whole and atomically after every run.

The file is valid (`mockserver validate`, `serve`) at every moment: it is checked with the
loader before it replaces the old one, through a temporary file and `os.replace`, so Ctrl-C or
a crash never leaves half a file. Each run becomes one scenario of raw `event:` items:

- The first run recorded for a team is the team's default (no `match`, listed last); every
  later run answers its own message exactly (`match: ^<escaped message>$`). A session's turns
  thus replay in order as long as the UI sends the same messages, with no state to reset
  between tests. A message recorded twice replays its first recording.
- `delay` of the first event is its arrival after the request, waited before the response head
  (the mock sends the head with the first frame; the real head time is noted in the header
  comment); every later delay counts from the event before.
  Delays are differences of rounded offsets, so rounding never adds up along a long stream.
- Envelope ids (`run_id`, `session_id`, `parent_run_id`) stay in the items: the replay maps
  each recorded id to its own, wherever the id appears (see `agentos/expand.py: _IdMap`).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mockserver.record.runs import RecordedRun
from mockserver.scenarios.loader import FORMAT_VERSION, ScenarioError, load_directory, load_text

FILLED_BY_THE_MOCK = frozenset(
    {"created_at", "event", "team_id", "team_name", "nested_depth", "agent_id", "agent_name"}
)
"""Envelope keys the mock fills for every replayed frame (ids are kept, to be mapped)."""


class RecordingRefused(Exception):
    """The recording would clash with the folder it writes to; nothing has been written."""


@dataclass
class TeamInfo:
    """What a scenario file says of its team, read from the upstream's `GET /teams/{id}`."""

    id: str
    name: str
    description: str = ""
    model: dict[str, str] | None = None
    members: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_agentos(cls, body: dict[str, Any]) -> TeamInfo:
        model = body.get("model") if isinstance(body.get("model"), dict) else None
        members = []
        for member in body.get("members") or []:
            if not isinstance(member, dict) or not member.get("id"):
                continue
            entry: dict[str, Any] = {"id": str(member["id"]), "name": str(member.get("name") or member["id"])}
            if member.get("role"):
                entry["role"] = str(member["role"])
            member_model = member.get("model")
            if isinstance(member_model, dict) and member_model.get("model"):
                entry["model"] = {"id": member_model["model"], "provider": member_model.get("provider", "")}
            members.append(entry)
        return cls(
            id=str(body.get("id", "")),
            name=str(body.get("name") or body.get("id", "")),
            description=str(body.get("description") or ""),
            model={"id": model["model"], "provider": model.get("provider", "")}
            if model and model.get("model")
            else None,
            members=members,
        )

    def complete_from(self, run: RecordedRun) -> None:
        """Fill what the upstream did not say (or could not be asked) from the run's frames."""
        known = {m["id"] for m in self.members}
        for frame in run.frames:
            data = frame.data
            if self.model is None and "model" in data and "agent_id" not in data:
                self.model = {"id": str(data["model"]), "provider": str(data.get("model_provider", ""))}
            if self.name == self.id and data.get("team_name"):
                self.name = str(data["team_name"])
            agent = data.get("agent_id")
            if isinstance(agent, str) and agent not in known:
                known.add(agent)
                self.members.append({"id": agent, "name": str(data.get("agent_name") or agent)})


@dataclass
class _TeamFile:
    path: Path
    info: TeamInfo
    runs: list[RecordedRun] = field(default_factory=list)
    messages: set[str] = field(default_factory=set)


class RecordingFolder:
    """The folder a recording writes: one `<team id>.yaml` per team, never a team id it already has.

    `rename` gives the (single) recorded team another id; `file` writes that team to one given
    file instead (the one-shot `record --out FILE.yaml`).
    """

    def __init__(
        self, directory: Path, *, rename: str | None = None, file: Path | None = None, source: str = ""
    ) -> None:
        self.directory = directory
        self.rename = rename
        self.file = file
        self.source = source
        self.teams: dict[str, _TeamFile] = {}
        self.existing = existing_teams(directory)
        if file is not None:  # the one-shot form overwrites its own file, as it always did
            self.existing = {
                t: source for t, source in self.existing.items() if Path(source).resolve() != file.resolve()
            }
        if rename is not None:
            self.refuse_existing(rename)

    def refuse_existing(self, team_id: str) -> None:
        if team_id in self.existing:
            raise RecordingRefused(
                f"team id {team_id!r} is already defined in {self.existing[team_id]}; record into another folder"
                " or give the recording another id with --team-id NEW"
            )

    def team_id_for(self, upstream_id: str) -> str:
        return self.rename or upstream_id

    def accepts(self, upstream_id: str) -> str | None:
        """None if runs of `upstream_id` can be recorded here, else why not."""
        team_id = self.team_id_for(upstream_id)
        if team_id in self.teams:
            return (
                None
                if self.teams[team_id].info.id == upstream_id or self.rename is None
                else (
                    f"--team-id {self.rename} already records team {self.teams[team_id].info.id!r};"
                    f" {upstream_id!r} is not recorded"
                )
            )
        try:
            self.refuse_existing(team_id)
        except RecordingRefused as refusal:
            return str(refusal)
        return None

    def add(self, run: RecordedRun, info: TeamInfo) -> tuple[Path, bool]:
        """Write `run` into its team's file; (the file, whether the run got a scenario of its own)."""
        team_id = self.team_id_for(run.team_id)
        entry = self.teams.get(team_id)
        if entry is None:
            path = self.file or self.directory / f"{_file_name(team_id)}.yaml"
            entry = self.teams[team_id] = _TeamFile(path=path, info=info)
        entry.info.complete_from(run)
        if run.message in entry.messages:
            return entry.path, False
        entry.messages.add(run.message)
        entry.runs.append(run)
        text = render_file(entry.info, team_id, entry.runs, self.source)
        load_text(text, str(entry.path))  # what is written must load; a bug here must not corrupt the folder
        write_atomically(entry.path, text)
        return entry.path, True


def existing_teams(directory: Path) -> dict[str, str]:
    """Team id → the file defining it, for every team already in `directory` (none if it has no files).

    A folder whose files do not load is refused outright: writing into it could not be checked.
    """
    if not directory.is_dir() or not any(p.suffix in (".yaml", ".yml") for p in directory.rglob("*")):
        return {}
    try:
        teams = load_directory(directory).teams
    except ScenarioError as error:
        raise RecordingRefused(f"{directory} has scenario files that do not load:\n{error}") from None
    return {team_id: team.source for team_id, team in teams.items()}


def _file_name(team_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", team_id).strip("._") or "team"


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def render_file(info: TeamInfo, team_id: str, runs: list[RecordedRun], source: str) -> str:
    team: dict[str, Any] = {"id": team_id, "name": info.name}
    if info.description:
        team["description"] = info.description
    if info.model:
        team["model"] = info.model
    team["members"] = info.members
    scenarios = [scenario(run, index + 1, default=index == 0) for index, run in enumerate(runs)]
    document = {"version": FORMAT_VERSION, "team": team, "scenarios": [*scenarios[1:], scenarios[0]]}
    return header(team_id, info.id, runs, source) + yaml.safe_dump(
        document, allow_unicode=True, sort_keys=False, width=100
    )


def header(team_id: str, upstream_id: str, runs: list[RecordedRun], source: str) -> str:
    lines = [
        f"# Recorded by `mockserver record` from {source or 'a real AgentOS'}, team {upstream_id!r}"
        + (f" (renamed {team_id!r})" if team_id != upstream_id else "")
        + ".",
        "# The first event's delay is its arrival after the request; every id is replaced by the replay's own.",
        "# Runs, in the order they were recorded:",
    ]
    for index, run in enumerate(runs, 1):
        files = ", ".join(f"{f.filename or '(no name)'} ({f.content_type or 'no type'}, {f.size} B)" for f in run.files)
        lines.append(
            f"#   {index}. session {run.replay_session or '?'}: {json.dumps(run.message, ensure_ascii=False)}"
            + (f" with {files}" if files else "")
            + f"; head after {run.head * 1000:.1f} ms, {len(run.frames)} frames in {run.duration:.3f} s"
        )
    return "\n".join(lines) + "\n"


def scenario(run: RecordedRun, number: int, *, default: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": f"turn {number}: {_short(run.message)}"}
    if not default:
        doc["match"] = f"^{re.escape(run.message)}$"
    doc.update(gap=0, model_requests=False, events=events(run))
    return doc


def events(run: RecordedRun) -> list[dict[str, Any]]:
    items = []
    first_ms = round(run.frames[0].at * 1000, 1) if run.frames else 0.0
    previous_ms = first_ms
    for index, frame in enumerate(run.frames):
        # The first event's delay (its arrival after the request) is waited before the head; every
        # later one counts from the event before, as differences of rounded offsets.
        offset_ms = round(frame.at * 1000, 1)
        delay_ms = first_ms if index == 0 else max(round(offset_ms - previous_ms, 1), 0.0)
        previous_ms = max(previous_ms, offset_ms)
        data = frame.data
        item: dict[str, Any] = {"event": frame.event}
        if "agent_id" in data:
            item["member"] = data["agent_id"]
        item["delay"] = f"{delay_ms:g}ms"
        item.update((k, v) for k, v in data.items() if k not in FILLED_BY_THE_MOCK)
        items.append(item)
    return items


def _short(message: str, width: int = 48) -> str:
    line = " ".join(message.split())
    return line if len(line) <= width else line[: width - 1] + "…"
