"""Sessions in memory: every finished run recorded under its session, as AgentOS stores them.

A run is recorded when it ends (its stream is done, or its JSON is built), never while it
streams: like the real server, `GET /sessions/{id}/runs` answers 404 until the first run of a
new session has finished (agent-ui keeps the streamed text on a 404 and would blank it on an
empty list). The store is bounded, so a long test run cannot exhaust memory: past `limit`
sessions the least recently used session is dropped; past `max_runs` runs or `max_bytes`
stored bytes in one session, its oldest runs are (the newest is always kept). The bytes of all
stores together are bounded by the app state (`state.py: bound_sessions`). A run's bytes are
estimated as `MEMORY_PER_BYTE` times those its response sent (a stored run holds its plan,
which may outlive the plan cache).

A run is kept as its plan (shared by every run of the same request), how far it got and its
stamp; the dicts AgentOS's session routes render (`j6`…`j8` captures, keys in their order;
member runs before the team run that delegated to them, as agno stores them) are made the first
time the run is read.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from mockserver.agentos.cancel import CLIENT_LEFT_REASON
from mockserver.agentos.errors import NotFound
from mockserver.agentos.events import MODEL_CLASSES
from mockserver.agentos.expand import UPLOADS_KEY, chat_message, tool_calls
from mockserver.agentos.fold import RunFold, member_responses
from mockserver.agentos.output import conversation, team_run_output
from mockserver.run.plan import MEMORY_PER_BYTE, Frame, Plan
from mockserver.run.stamp import Stamp, created_at, iso, iso_at, iso_of

STORED_SKIPS = frozenset({"TeamRunContent", "RunContent"})
"""Content deltas are not kept in a run's `events` (agno's default `events_to_skip`)."""


class StoredRun:
    """One finished run as the store keeps it: its plan and how far it got, its records made when
    first read; once the plan cache lets a shared plan go, the records alone (`settle`), which
    hold far less than the plan."""

    def __init__(
        self, plan: Plan, facts: RunFold, frames: Sequence[Frame], stream: bool, status: str, stamp: Stamp, size: int
    ) -> None:
        self._played: tuple[Plan, RunFold, Sequence[Frame]] | None = (plan, facts, frames)
        self.stream = stream
        self.status = status
        self.stamp = stamp
        self.size = size
        self.run_id = stamp.context.run_id

    @cached_property
    def records(self) -> list[dict[str, Any]]:
        """The member runs that got under way, then the run itself, as `GET /sessions/{id}/runs` lists them."""
        assert self._played is not None, "settled runs have their records"
        plan, facts, frames = self._played
        stamped: list[dict[str, Any]] = self.stamp.data(run_records(plan, facts, frames, self.stream, self.status))
        return stamped

    @cached_property
    def output(self) -> dict[str, Any]:
        """Its TeamRunOutput, as `GET /teams/{id}/runs/{run_id}` answers it."""
        assert self._played is not None, "settled runs have their output"
        plan, facts, _ = self._played
        output: dict[str, Any] = self.stamp.data(stored_output(plan, facts, self.records[-1]))
        return output

    def settle(self) -> None:
        """Make the records now and let the plan go."""
        if self._played is not None:
            _ = self.records, self.output
            self._played = None


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
    stored_runs: list[StoredRun] = field(default_factory=list)
    session_state: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] | None = None
    renamed: bool = False
    kind: str = "team"
    """`team`, or `agent` for a stand-alone agent's session (`team_id` then holds the agent's id)."""

    @property
    def runs(self) -> list[dict[str, Any]]:
        """Every stored record, member runs and the runs of the session itself, oldest first."""
        return [record for run in self.stored_runs for record in run.records]

    def output(self, run_id: str) -> dict[str, Any] | None:
        """The run's TeamRunOutput, if the session holds it."""
        return next((run.output for run in self.stored_runs if run.run_id == run_id), None)

    @property
    def stored(self) -> int:
        return sum(run.size for run in self.stored_runs)

    def keep(self, max_runs: int, max_bytes: int) -> int:
        """Drop the oldest runs past either bound, the newest always kept; the bytes dropped."""
        dropped = 0
        stored = self.stored
        runs = self.stored_runs
        while len(runs) > 1 and (len(runs) > max_runs or stored - dropped > max_bytes):
            dropped += runs.pop(0).size
        return dropped

    def team_runs(self) -> list[dict[str, Any]]:
        """The session's own runs (not its members'): what its chat history is made of."""
        if self.kind == "agent":
            return [r for r in self.runs if not r.get("parent_run_id")]
        return [r for r in self.runs if "team_id" in r]

    def summary(self) -> dict[str, Any]:
        """One entry of `GET /sessions`."""
        body: dict[str, Any] = {
            "session_id": self.session_id,
            "session_name": self.name,
            "session_state": self.session_state,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "session_type": self.kind,
        }
        if self.user_id is not None:
            body["user_id"] = self.user_id
        body[f"{self.kind}_id"] = self.team_id
        body["metrics"] = self.metrics()
        if self.metadata:
            body["metadata"] = self.metadata
        return body

    def detail(self, *, nulls: bool = False) -> dict[str, Any]:
        """`GET /sessions/{id}`: the session with the chat history of its team runs.

        AgentOS drops the null keys on a GET and writes them on rename and PATCH (`nulls`).
        """
        if self.kind == "agent":
            return self._agent_detail()
        body: dict[str, Any] = {
            "session_id": self.session_id,
            "session_name": self.name,
            "user_id": self.user_id,
            "team_id": self.team_id,
            "session_summary": None,
            "session_state": self.session_state,
            "metrics": self.metrics(),
            "team_data": {"name": self.team_name, "team_id": self.team_id, "model": self.model},
            "metadata": self.metadata or None,
            "chat_history": self.chat_history(),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "total_tokens": None,
        }
        return body if nulls else {k: v for k, v in body.items() if v is not None}

    def agent_detail(self) -> dict[str, Any]:
        """`GET /sessions/{id}?type=agent`: AgentOS reads a team session as an agent session too."""
        if self.kind == "agent":
            return self._agent_detail()
        body: dict[str, Any] = {
            "user_id": self.user_id,
            "agent_session_id": self.session_id,
            "session_id": self.session_id,
            "session_name": self.name,
            "session_state": self.session_state,
            "metrics": self.metrics(),
            "metadata": self.metadata or None,
            "chat_history": self.chat_history(),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }
        return {k: v for k, v in body.items() if v is not None}

    def chat_history(self) -> list[dict[str, Any]]:
        """agno's `get_chat_history`: the team runs' user and assistant messages, no system or tool ones."""
        messages = (m for run in self.team_runs() for m in run.get("messages", []))
        return [m for m in messages if m.get("role") in ("user", "assistant")]

    def _agent_detail(self) -> dict[str, Any]:
        """An agent session, keys in the order of the `g8_agent_session` capture."""
        body: dict[str, Any] = {"agent_session_id": self.session_id, "session_id": self.session_id}
        body["session_name"] = self.name
        if self.user_id is not None:
            body["user_id"] = self.user_id
        model = {"provider": self.model["provider"], "name": self.model["name"], "id": self.model["id"]}
        body.update(
            session_state=self.session_state,
            agent_id=self.team_id,
            agent_data={"name": self.team_name, "agent_id": self.team_id, "model": model},
        )
        if self.metadata:
            body["metadata"] = self.metadata
        shown = [m for run in self.team_runs() for m in run.get("messages", [])]
        history = [m for m in shown if m.get("role") not in ("system", "tool")]
        body.update(metrics=self.metrics(), chat_history=history)
        body.update(created_at=iso(self.created_at), updated_at=iso(self.updated_at))
        return body

    def metrics(self) -> dict[str, Any]:
        return (
            {"details": {"model": [{"id": self.model["id"], "provider": self.model["provider"]}]}}
            if self.stored_runs
            else {}
        )


class SessionStore:
    def __init__(self, limit: int = 1000, *, max_runs: int = 100, max_bytes: int = 16 * 1024**2) -> None:
        self.limit = limit
        self.max_runs = max_runs
        self.max_bytes = max_bytes
        self.stored = 0
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    @property
    def weight(self) -> int:
        """The stored bytes (`Bounded`, in `state.py`)."""
        return self.stored

    def drop_oldest(self) -> bool:
        """Let the least recently used session go; False if there is none."""
        if not self._sessions:
            return False
        self.stored -= self._sessions.popitem(last=False)[1].stored
        return True

    def clear(self) -> None:
        self._sessions.clear()
        self.stored = 0

    def check_writable(self, session_id: str | None, user_id: str | None) -> None:
        """AgentOS's rule: a session owned by one user takes runs from that user only (not from
        a run without a `user_id` either); an unowned session takes anyone's."""
        session = self._sessions.get(session_id) if session_id else None
        if session is not None and session.user_id is not None and session.user_id != user_id:
            raise NotFound("Session not found")

    def get(self, session_id: str, user_id: str | None = None) -> Session | None:
        session = self._sessions.get(session_id)
        if session is None or (user_id is not None and session.user_id != user_id):
            return None
        return session

    def find(
        self, *, team_id: str | None = None, user_id: str | None = None, name: str | None = None, kind: str = "team"
    ) -> list[Session]:
        """`name` matches only a name set by rename or PATCH: AgentOS searches the stored session
        data, and a name derived from the first message is never written there."""
        return [
            s
            for s in self._sessions.values()
            if s.kind == kind
            and (team_id is None or s.team_id == team_id)
            and (user_id is None or s.user_id == user_id)
            and (name is None or (s.renamed and name.lower() in s.name.lower()))
        ]

    def delete(self, session_id: str, user_id: str | None = None) -> bool:
        if self.get(session_id, user_id) is None:
            return False
        self.stored -= self._sessions.pop(session_id).stored
        return True

    def record(
        self,
        plan: Plan,
        facts: RunFold,
        frames: Sequence[Frame],
        stamp: Stamp,
        *,
        size: int,
        stream: bool = True,
        status: str | None = None,
    ) -> StoredRun:
        """Store the run `plan` as far as `frames` got (`facts` is their fold; `size` the bytes
        it sent), with `status` when how it ended says more than its frames."""
        context = stamp.context
        now = time.time()
        model = context.team.model
        session = self._sessions.get(context.session_id)
        if session is None:
            session = Session(
                session_id=context.session_id,
                team_id=context.team.id,
                team_name=context.team.name,
                model={
                    "name": MODEL_CLASSES.get(model.provider, model.provider),
                    "id": model.id,
                    "provider": model.provider,
                },
                user_id=context.user_id,
                name=context.message,
                created_at=context.started_at,
                updated_at=now,
                kind=context.team.kind,
            )
            self._sessions[context.session_id] = session
        else:
            session.updated_at = now
            if session.user_id is None:
                session.user_id = context.user_id
        size *= MEMORY_PER_BYTE
        stored = StoredRun(plan, facts, frames, stream, status or facts.status, stamp, size)
        session.stored_runs.append(stored)
        self.stored += size - session.keep(self.max_runs, self.max_bytes)
        self._sessions.move_to_end(context.session_id)
        while len(self._sessions) > self.limit:
            self.drop_oldest()
        return stored


def stored_output(plan: Plan, facts: RunFold, record: dict[str, Any]) -> dict[str, Any]:
    """The TeamRunOutput of a finished run as AgentOS reads it back: with its stored `events`
    after `created_at`, the status it ended with, and without the mock's upload echo."""
    output: dict[str, Any] = {}
    for key, value in team_run_output(plan, facts).items():
        if key in (UPLOADS_KEY, "events"):
            continue
        output[key] = record["status"] if key == "status" else value
        if key == "created_at":
            output["events"] = record.get("events", [])
    return output


LISTED_KEYS = (
    "run_id",
    "parent_run_id",
    "team_id",
    "user_id",
    "status",
    "cancellation_stage",
    "content",
    "reasoning_content",
    "reasoning_steps",
    "run_input",
    "run_response_format",
    "metrics",
    "tools",
    "messages",
    "events",
    "created_at",
    "references",
    "citations",
    "reasoning_messages",
    "session_state",
    "input_media",
    "images",
    "videos",
    "audio",
    "files",
    "response_audio",
    "followups",
    "forked_from_run_id",
    "forked_from_message_index",
    "forked_from_session_id",
    "regenerated_from",
    "last_checkpoint_at_message_index",
)
"""`GET /teams/{id}/runs`: a stored team run with every key AgentOS writes, null ones included."""


def listed_run(record: dict[str, Any]) -> dict[str, Any]:
    return {key: record.get(key) for key in LISTED_KEYS if key in record or key not in ("user_id", "tools")}


def run_records(plan: Plan, facts: RunFold, frames: Sequence[Frame], stream: bool, status: str) -> list[dict[str, Any]]:
    """The member runs that got under way, then the team run, as `GET /sessions/{id}/runs` lists them.

    Only streamed runs keep their `events`, all on the team run, as in the `j7` capture. A
    stand-alone agent's run is one record, as a member run's is (`g8_agent_session_runs`).
    """
    if plan.context.team.kind == "agent":
        return [_agent_record(plan, facts, frames, stream, status)]
    return [*_member_records(plan, facts), _team_record(plan, facts, frames, stream, status)]


def _team_record(plan: Plan, facts: RunFold, frames: Sequence[Frame], stream: bool, status: str) -> dict[str, Any]:
    context = plan.context
    created = created_at(0.0)
    content = facts.content
    messages = conversation(plan, facts, created)
    tools = facts.tools
    if status != "COMPLETED" and status != "ERROR":
        # A cut run keeps the call under way (no result yet) and one assistant message with the
        # text so far and every call it made, as agno stores a cancelled run.
        tools = [*facts.tools, *in_flight_tools(frames, facts)]
        text = content if isinstance(content, str) else ""
        extra: dict[str, Any] = {"tool_calls": tool_calls(tools)} if tools else {}
        messages = [*messages[:2], chat_message("assistant", text, created, **extra)]
    elif status == "ERROR":
        messages = messages[:2]
    last = frames[-1].data if frames else {}
    record: dict[str, Any] = {"run_id": context.run_id, "parent_run_id": "", "team_id": context.team.id}
    if context.user_id is not None:
        record["user_id"] = context.user_id
    record["status"] = status
    if status == "CANCELLED" and (facts.cancelled or {}).get("reason") != CLIENT_LEFT_REASON:
        record["cancellation_stage"] = "EXECUTING"
    record.update(
        content=content,
        reasoning_content="",
        reasoning_steps=facts.reasoning_steps,
        run_input=context.message,
        run_response_format="text",
        metrics=last.get("metrics") if isinstance(last.get("metrics"), dict) else {},
    )
    if tools:
        record["tools"] = tools
    record["messages"] = messages
    # agno files the member events it streamed on the team run; the member run keeps none.
    events = [f.data for f in frames if f.event not in STORED_SKIPS]
    if events and stream:
        record["events"] = events
    record.update(
        created_at=iso_at(0.0),
        references=[],
        reasoning_messages=[],
    )
    if status == "CANCELLED":
        record["session_state"] = context.session_state or {}
    record.update(
        input_media={"images": [], "videos": [], "audios": [], "files": []},
        images=[],
        videos=[],
        audio=[],
        files=[],
    )
    return record


def in_flight_tools(frames: Sequence[Frame], facts: RunFold) -> list[dict[str, Any]]:
    """The team's tool calls that started and never completed, with the member run a delegation began."""
    done = {t.get("tool_call_id") for t in facts.tools}
    calls: list[dict[str, Any]] = []
    claimed: set[Any] = set()
    for index, frame in enumerate(frames):
        tool = frame.data.get("tool")
        if frame.event != "TeamToolCallStarted" or not isinstance(tool, dict) or tool.get("tool_call_id") in done:
            continue
        call = dict(tool)
        if call.get("tool_name") == "delegate_task_to_member":
            # Delegations of one `parallel` group start together: each child is the first
            # unclaimed member run after it, of the member it names if there is one.
            member_id = (call.get("tool_args") or {}).get("member_id")
            started = [
                f.data for f in frames[index + 1 :] if f.event == "RunStarted" and f.data.get("run_id") not in claimed
            ]
            named = [data for data in started if data.get("agent_id") == member_id] or started
            child = named[0].get("run_id") if named else None
            if child:
                claimed.add(child)
                call["child_run_id"] = child
        calls.append(call)
    return calls


def _member_records(plan: Plan, facts: RunFold) -> list[dict[str, Any]]:
    """Member runs that started and that the run reports a response for (a member cut off with
    its client is not stored, as in `agentos-3.1.10-extra/n2`)."""
    responses = {r["run_id"]: r for r in member_responses(plan, facts) if isinstance(r, dict) and "run_id" in r}
    records = []
    for run_id in facts.members:
        response = responses.get(run_id)
        if response is None:
            continue
        record: dict[str, Any] = {
            "run_id": run_id,
            "parent_run_id": plan.context.run_id,
            "agent_id": response.get("agent_id", ""),
            "user_id": plan.context.user_id or "",
            "status": response.get("status", "COMPLETED"),
            **({"cancellation_stage": response["cancellation_stage"]} if "cancellation_stage" in response else {}),
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
        record.update(
            created_at=iso_of(response.get("created_at")),
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


def _agent_record(plan: Plan, facts: RunFold, frames: Sequence[Frame], stream: bool, status: str) -> dict[str, Any]:
    context = plan.context
    created = created_at(0.0)
    messages = conversation(plan, facts, created)
    if status == "ERROR":
        messages = messages[:2]
    elif status != "COMPLETED":
        content = facts.content if isinstance(facts.content, str) else ""
        messages = [*messages[:2], chat_message("assistant", content, created)]
    last = frames[-1].data if frames else {}
    record: dict[str, Any] = {
        "run_id": context.run_id,
        "parent_run_id": "",
        "agent_id": context.team.id,
        "user_id": context.user_id or "",
        "status": status,
        "run_input": context.message,
        "content": facts.content,
        "run_response_format": "text",
        "reasoning_content": "",
        "reasoning_steps": facts.reasoning_steps,
        "metrics": last.get("metrics") if isinstance(last.get("metrics"), dict) else {},
        "messages": messages,
    }
    if facts.tools:
        record["tools"] = facts.tools
    events = [f.data for f in frames if f.event not in STORED_SKIPS]
    if events and stream:
        record["events"] = events
    record.update(
        created_at=iso_at(0.0),
        references=[],
        reasoning_messages=[],
        session_state={},
        images=[],
        videos=[],
        audio=[],
        files=[],
        input_media={"images": [], "videos": [], "audios": [], "files": []},
    )
    return record
