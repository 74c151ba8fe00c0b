"""`mockserver import FILE --out DIR`: captures made without the proxy turned into the same scenario files.

Two kinds of file, told apart by their content:

- **An SSE capture**, what `curl -N …/runs` prints: the frames of one run. It holds no request
  and no timing: the run becomes its team's default scenario, its frames `IMPORT_GAP` apart.
- **A HAR file** (a browser devtools export): every `POST /teams/{id}/runs` entry answered with
  `text/event-stream`, in order; each keeps its message, session, user and files' names from
  the request. HAR keeps no per-chunk timing, only phases: the head comes after the entry's
  `blocked + dns + connect + ssl + send + wait`, and the frames are spread evenly over `receive`.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from pathlib import Path
from typing import Any

from mockserver.record.runs import FileInfo, RecordedFrame, RecordedRun, SseReader
from mockserver.record.writer import RecordingFolder, RecordingRefused, TeamInfo

IMPORT_GAP = 0.05
"""Seconds between two frames of an SSE capture, which records no timing: the mock's usual gap."""
TEAM_RUN_PATH = re.compile(r"/teams/([^/]+)/runs/?$")
HAR_PHASES = ("blocked", "dns", "connect", "ssl", "send", "wait")


class UnreadableCapture(ValueError):
    """The file is neither an SSE capture nor a HAR file with team runs."""


def parse_sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    reader = SseReader()
    frames = reader.feed(text.replace("\r\n", "\n").encode("utf-8"))
    return frames + reader.feed(b"\n\n")  # a capture cut after its last frame's data line


def runs_from_sse(text: str) -> list[RecordedRun]:
    frames = parse_sse(text)
    if not frames:
        raise UnreadableCapture("no SSE frames (`event: …` / `data: {…}`) found")
    team_id = str(frames[0][1].get("team_id") or "imported-team")
    recorded = [RecordedFrame(index * IMPORT_GAP, event, data) for index, (event, data) in enumerate(frames)]
    return [RecordedRun(team_id=team_id, message="(imported)", frames=recorded)]


def runs_from_har(document: dict[str, Any]) -> list[RecordedRun]:
    entries = _mapping(document.get("log")).get("entries")
    if not isinstance(entries, list):
        raise UnreadableCapture("not a HAR file: its `log.entries` is not a list")
    runs = []
    for entry in map(_mapping, entries):
        request, response = _mapping(entry.get("request")), _mapping(entry.get("response"))
        match = TEAM_RUN_PATH.search(urllib.parse.urlsplit(str(request.get("url", ""))).path)
        content = _mapping(response.get("content"))
        if request.get("method") != "POST" or match is None or "event-stream" not in str(content.get("mimeType", "")):
            continue
        text = str(content.get("text") or "")
        if content.get("encoding") == "base64":
            try:
                text = base64.b64decode(text).decode("utf-8", errors="replace")
            except ValueError:  # not base64 after all: the entry holds no frames we can read
                continue
        frames = parse_sse(text)
        if not frames:
            continue
        timings = _mapping(entry.get("timings"))
        head = sum(_milliseconds(timings.get(phase)) for phase in HAR_PHASES) / 1000
        receive = _milliseconds(timings.get("receive")) / 1000
        step = receive / max(len(frames) - 1, 1)
        fields, files = _har_form(_mapping(request.get("postData")))
        runs.append(
            RecordedRun(
                team_id=urllib.parse.unquote(match.group(1)),
                message=fields.get("message", "(imported)"),
                session_id=fields.get("session_id") or None,
                user_id=fields.get("user_id") or None,
                files=files,
                head=head,
                frames=[RecordedFrame(head + i * step, event, data) for i, (event, data) in enumerate(frames)],
            )
        )
    if not runs:
        raise UnreadableCapture("no streamed POST /teams/{id}/runs entries in this HAR file")
    return runs


def _mapping(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one: a HAR file's parts as the format says they are."""
    return value if isinstance(value, dict) else {}


def _milliseconds(value: Any) -> float:
    """A HAR timing; -1 (not applicable) or anything but a finite number counts as none."""
    try:
        number = float(value or 0)
    except (TypeError, ValueError):
        return 0.0
    return number if 0 < number < float("inf") else 0.0


def _har_form(post: dict[str, Any]) -> tuple[dict[str, str], tuple[FileInfo, ...]]:
    """The text fields and files' metadata of a HAR request body (its params, else its text)."""
    fields: dict[str, str] = {}
    files: list[FileInfo] = []
    params = post.get("params")
    for param in map(_mapping, params if isinstance(params, list) else []):
        if param.get("fileName"):
            files.append(FileInfo(param["fileName"], param.get("contentType"), len(str(param.get("value") or ""))))
        elif "name" in param:
            fields.setdefault(str(param["name"]), str(param.get("value") or ""))
    text = str(post.get("text") or "")
    mime = str(post.get("mimeType") or "")
    if not fields and "urlencoded" in mime:
        fields = {k: v[0] for k, v in urllib.parse.parse_qs(text, keep_blank_values=True).items()}
    elif not fields and "multipart" in mime:
        for part in re.split(r"\r?\n?--[^\r\n]*\r?\n", text):
            head, _, value = part.partition("\r\n\r\n") if "\r\n\r\n" in part else part.partition("\n\n")
            name = re.search(r'name="([^"]*)"', head)
            filename = re.search(r'filename="([^"]*)"', head)
            if filename:
                kind = re.search(r"(?im)^content-type:\s*(\S+)", head)
                files.append(FileInfo(filename.group(1), kind.group(1) if kind else None, len(value.rstrip("\r\n"))))
            elif name:
                fields.setdefault(name.group(1), value.rstrip("\r\n"))
    return fields, tuple(files)


def read_runs(path: Path) -> list[RecordedRun]:
    text = path.read_text(encoding="utf-8", errors="replace")
    if text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except (ValueError, RecursionError) as error:
            raise UnreadableCapture(f"not valid JSON (a HAR file is JSON): {error}") from None
        if isinstance(document, dict) and "log" in document:
            return runs_from_har(document)
    return runs_from_sse(text)


def import_file(path: Path, folder: RecordingFolder) -> list[tuple[RecordedRun, Path, bool]]:
    """Write every run of `path` into `folder`; (run, file, whether it got a scenario) for each."""
    runs = read_runs(path)
    for team_id in dict.fromkeys(run.team_id for run in runs):
        refusal = folder.accepts(team_id)
        if refusal is not None:
            raise RecordingRefused(refusal)
    written = []
    teams: dict[str, TeamInfo] = {}
    for run in runs:
        info = teams.setdefault(run.team_id, TeamInfo(id=run.team_id, name=run.team_id))
        file, added = folder.add(run, info)
        written.append((run, file, added))
    return written
