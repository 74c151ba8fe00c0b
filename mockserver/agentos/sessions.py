"""Sessions in memory: every finished run recorded under its session, as AgentOS stores them.

A run is recorded when it ends (its stream is done, or its JSON is built), never while it
streams: like the real server, `GET /sessions/{id}/runs` answers 404 until the first run of a
new session has finished (agent-ui keeps the streamed text on a 404 and would blank it on an
empty list). The store is bounded: past `limit` sessions the least recently used is dropped,
so a long test run cannot exhaust memory.

Records are kept as the dicts AgentOS's session routes render (`j6`…`j8` captures), keys in
their order; member runs are stored before the team run that delegated to them, as agno does.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from mockserver.http.errors import ApiError
from mockserver.agentos.events import MODEL_CLASSES
from mockserver.agentos.expand import chat_message
from mockserver.agentos.fold import RunFold, member_responses
from mockserver.agentos.output import conversation
from mockserver.run.plan import Frame, Plan

STORED_SKIPS = frozenset({"TeamRunContent", "RunContent"})
"""Content deltas are not kept in a run's `events` (agno's default `events_to_skip`)."""


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(int(timestamp), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Session:
    session_id: str
    team_id: str
    team_name: str
    model: dict[str, str]
    user_id: str | None
    name: str
    created_at: float
    updated_at: float
    runs: list[dict[str, Any]] = field(default_factory=list)
    session_state: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] | None = None
    renamed: bool = False

    def team_runs(self) -> list[dict[str, Any]]:
        return [r for r in self.runs if "team_id" in r]

    def summary(self) -> dict[str, Any]:
        """One entry of `GET /sessions`."""
        body: dict[str, Any] = {
            "session_id": self.session_id,
            "session_name": self.name,
            "session_state": self.session_state,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "session_type": "team",
        }
        if self.user_id is not None:
            body["user_id"] = self.user_id
        body.update(team_id=self.team_id, metrics=self.metrics())
        if self.metadata:
            body["metadata"] = self.metadata
        return body

    def detail(self) -> dict[str, Any]:
        """`GET /sessions/{id}`: the session with the chat history of its team runs."""
        body: dict[str, Any] = {"session_id": self.session_id, "session_name": self.name}
        if self.user_id is not None:
            body["user_id"] = self.user_id
        body.update(
            team_id=self.team_id,
            session_state=self.session_state,
            metrics=self.metrics(),
            team_data={"name": self.team_name, "team_id": self.team_id, "model": self.model},
        )
        if self.metadata:
            body["metadata"] = self.metadata
        history = [m for run in self.team_runs() for m in run.get("messages", []) if m.get("role") != "system"]
        body.update(chat_history=history, created_at=iso(self.created_at), updated_at=iso(self.updated_at))
        return body

    def metrics(self) -> dict[str, Any]:
        return {"details": {"model": [{"id": self.model["id"], "provider": self.model["provider"]}]}} if self.runs else {}


class SessionStore:
    def __init__(self, limit: int = 1000) -> None:
        self.limit = limit
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    def clear(self) -> None:
        self._sessions.clear()

    def check_writable(self, session_id: str | None, user_id: str | None) -> None:
        """AgentOS's rule: a session owned by one user cannot take runs from another."""
        session = self._sessions.get(session_id) if session_id else None
        if session is not None and session.user_id is not None and user_id is not None and session.user_id != user_id:
            raise ApiError(404, "Session not found")

    def get(self, session_id: str, user_id: str | None = None) -> Session | None:
        session = self._sessions.get(session_id)
        if session is None or (user_id is not None and session.user_id != user_id):
            return None
        return session

    def find(self, *, team_id: str | None = None, user_id: str | None = None, name: str | None = None) -> list[Session]:
        return [
            s for s in self._sessions.values()
            if (team_id is None or s.team_id == team_id)
            and (user_id is None or s.user_id == user_id)
            and (name is None or name.lower() in s.name.lower())
        ]

    def delete(self, session_id: str, user_id: str | None = None) -> bool:
        if self.get(session_id, user_id) is None:
            return False
        del self._sessions[session_id]
        return True

    def record(self, plan: Plan, facts: RunFold, frames: Sequence[Frame], *, stream: bool = True, status: str | None = None) -> Session:
        """Store the run `plan` as far as `frames` got (`facts` is their fold), with `status`
        when how it ended says more than its frames (a run whose client left)."""
        context = plan.context
        now = time.time()
        model = context.team.model
        session = self._sessions.get(context.session_id)
        if session is None:
            session = Session(
                session_id=context.session_id,
                team_id=context.team.id,
                team_name=context.team.name,
                model={"name": MODEL_CLASSES.get(model.provider, model.provider), "id": model.id, "provider": model.provider},
                user_id=context.user_id,
                name=context.message,
                created_at=context.started_at,
                updated_at=now,
            )
            self._sessions[context.session_id] = session
        else:
            session.updated_at = now
            if session.user_id is None:
                session.user_id = context.user_id
        session.runs.extend(run_records(plan, facts, frames, stream, status or facts.status))
        self._sessions.move_to_end(context.session_id)
        while len(self._sessions) > self.limit:
            self._sessions.popitem(last=False)
        return session


def run_records(plan: Plan, facts: RunFold, frames: Sequence[Frame], stream: bool, status: str) -> list[dict[str, Any]]:
    """The member runs that got under way, then the team run, as `GET /sessions/{id}/runs` lists them.

    Only streamed runs keep their `events`, as in the `j7` capture.
    """
    return [*_member_records(plan, facts, frames, stream), _team_record(plan, facts, frames, stream, status)]


def _team_record(plan: Plan, facts: RunFold, frames: Sequence[Frame], stream: bool, status: str) -> dict[str, Any]:
    context = plan.context
    created_at = int(context.started_at)
    content = facts.content
    messages = conversation(plan, facts, created_at)
    if status != "COMPLETED" and status != "ERROR":
        messages = [*messages[:2], chat_message("assistant", content if isinstance(content, str) else "", created_at)]
    elif status == "ERROR":
        messages = messages[:2]
    last = frames[-1].data if frames else {}
    record: dict[str, Any] = {"run_id": context.run_id, "parent_run_id": "", "team_id": context.team.id}
    if context.user_id is not None:
        record["user_id"] = context.user_id
    record.update(
        status=status,
        content=content,
        reasoning_content="",
        reasoning_steps=facts.reasoning_steps,
        run_input=context.message,
        run_response_format="text",
        metrics=last.get("metrics") if isinstance(last.get("metrics"), dict) else {},
    )
    if facts.tools:
        record["tools"] = facts.tools
    record["messages"] = messages
    events = [f.data for f in frames if not _is_member(f) and f.event not in STORED_SKIPS]
    if events and stream:
        record["events"] = events
    record.update(
        created_at=iso(context.started_at),
        references=[],
        reasoning_messages=[],
        input_media={"images": [], "videos": [], "audios": [], "files": []},
        images=[],
        videos=[],
        audio=[],
        files=[],
    )
    return record


def _member_records(plan: Plan, facts: RunFold, frames: Sequence[Frame], stream: bool) -> list[dict[str, Any]]:
    """Member runs that started within `frames` and that the run reports a response for (a member
    cut off with its client is not stored, as in `agentos-3.1.10-extra/n2`)."""
    responses = {r["run_id"]: r for r in member_responses(plan, facts) if isinstance(r, dict) and "run_id" in r}
    records = []
    for run_id in facts.members:
        response = responses.get(run_id)
        if response is None:
            continue
        events = [f.data for f in frames if _is_member(f) and f.data.get("run_id") == run_id and f.event not in STORED_SKIPS]
        record: dict[str, Any] = {
            "run_id": run_id,
            "parent_run_id": plan.context.run_id,
            "agent_id": response.get("agent_id", ""),
            "user_id": plan.context.user_id or "",
            "status": response.get("status", "COMPLETED"),
            "run_input": (response.get("input") or {}).get("input_content", ""),
            "content": response.get("content", ""),
            "run_response_format": "text",
            "reasoning_content": "",
            "reasoning_steps": [],
            "metrics": response.get("metrics", {}),
            "messages": response.get("messages", []),
        }
        if response.get("tools"):
            record["tools"] = response["tools"]
        if events and stream:
            record["events"] = events
        record.update(
            created_at=iso(response.get("created_at", plan.context.started_at)),
            references=[],
            reasoning_messages=[],
            session_state=response.get("session_state", {}),
            images=[],
            videos=[],
            audio=[],
            files=[],
            input_media={"images": [], "videos": [], "audios": [], "files": []},
        )
        records.append(record)
    return records


def _is_member(frame: Frame) -> bool:
    return "agent_id" in frame.data
