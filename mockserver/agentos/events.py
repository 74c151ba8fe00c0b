"""Wire facts of every SSE event agno 3.1.10 can put in a team-run stream.

Source of truth: the event dataclasses in agno 3.1.10 (`agno/run/team.py` for team events,
`agno/run/agent.py` for member agent events) and `BaseRunOutputEvent.to_dict` in
`agno/run/base.py`. Every key order below was produced by running that `to_dict` and was
checked against every frame of every SSE capture in `tests/captures/agentos-3.1.10/`.

How agno serialises an event (what the mock must reproduce):

- A frame is `event: NAME\\ndata: JSON\\n\\n` where JSON is
  `json.dumps(event.to_dict(), separators=(",", ":"), ensure_ascii=False)` (raw UTF-8,
  compact, one line). `NAME` equals the JSON's `event` key.
- `to_dict` is `dataclasses.asdict` in dataclass field order, keeping only keys whose value
  `is not None`. Falsy values survive: `""`, `0`, `False` and `[]` are emitted. So `team_id`
  / `agent_id` / `team_name` / `agent_name` ("" by default) and `nested_depth` (0) are always
  present, while unset optional keys (`None`) are simply absent.
- A field a subclass redeclares keeps its base-class position. `content` is declared on the
  base classes (right after `nested_depth`), so it always comes first after the envelope,
  even where the subclass lists it later (e.g. `ToolCallCompleted`: `content` before `tool`).
- Hand-serialised fields are removed from the `asdict` pass and appended afterwards, in the
  fixed order of `to_dict`: `metadata, additional_input, reasoning_messages, reasoning_steps,
  references, followups, member_responses, images, videos, audio, response_audio, image,
  citations, content (only when it is a pydantic model), tools, tool, metrics,
  session_summary, run_input, requirements, memories, tasks`. `files` is NOT in that list, so
  it keeps its dataclass position. That is why e.g. `TeamRunCompleted` emits
  `session_state` before `member_responses` and `metrics` last, and why member events carry
  `tools` near the end. `member_responses` is emitted only when non-empty (its default `[]`
  is never sent); `tasks` (default `[]`) is always sent.
- Structured (pydantic) `content` moves to just before `tools`/`tool`; plain string content,
  the only kind the captures show, stays in the base position listed here.
- Nested objects are not None-filtered the same way: the `tool` object is
  `ToolExecution.to_dict()` = plain `asdict`, so all of `TOOL_KEYS` are always present with
  explicit `null`s. `metrics` objects drop None, integer 0 (and False) and empty dicts/lists.

Base fields that exist on every event but are omitted while None (so they are not part of
the envelopes below): team events have `parent_run_id` (between `run_id` and `session_id`)
and, for both kinds, `workflow_id, workflow_run_id, step_id, step_name, step_index` (between
`session_id` and `nested_depth`). They are only set when a team runs inside a workflow (or a
team is nested in a team). Member events always carry `parent_run_id` = the team run's id.
`event_index` is a class attribute, not a field; it is only added by background/resumable
streams (`format_sse_event_with_index`), never on the plain stream the captures show.

`CustomEvent` is defined twice with the same wire name: a team variant (team envelope) and
an agent variant (member envelope, plus `tool_call_id`, which agno sets to the call id when a
tool yields the event). A user's `@dataclass` subclass emits its own fields after all of
these. Bare `CustomEvent(**kwargs)` does not emit arbitrary kwargs (they are not dataclass
fields). `EVENTS["CustomEvent"]` is the team variant;
`MEMBER_EVENTS` has the agent one. Note agno's client parses any `CustomEvent` frame with the
agent class, and passes every key through (it filters unknown keys for all other events).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventSpec:
    """The wire shape of one event type.

    `fields` are the keys after the envelope, in emission order (each is sent only when its
    value is not None). `defaults` are the keys agno emits even when the producer sets nothing,
    with their values; list defaults are given as `()` (they serialise to `[]`).
    """

    name: str
    member: bool
    fields: tuple[str, ...]
    defaults: tuple[tuple[str, object], ...]


TEAM_ENVELOPE: tuple[str, ...] = (
    "created_at",
    "event",
    "team_id",
    "team_name",
    "run_id",
    "session_id",
    "nested_depth",
)
"""Leading keys of a team event as a top-level team run sends them."""

MEMBER_ENVELOPE: tuple[str, ...] = (
    "created_at",
    "event",
    "agent_id",
    "agent_name",
    "run_id",
    "parent_run_id",
    "session_id",
    "nested_depth",
)
"""Leading keys of a member agent event.

`run_id` is the member's own run, `parent_run_id` the team run's id.
"""

TOOL_KEYS: tuple[str, ...] = (
    "tool_call_id",
    "tool_name",
    "tool_args",
    "tool_call_error",
    "result",
    "metrics",
    "child_run_id",
    "stop_after_tool_call",
    "created_at",
    "requires_confirmation",
    "confirmed",
    "confirmation_note",
    "requires_user_input",
    "user_input_schema",
    "user_feedback_schema",
    "answered",
    "external_execution_required",
    "external_execution_silent",
    "approval_type",
    "approval_id",
    "parent_tool_call_id",
)
"""Keys of the `tool` object (`ToolExecution.to_dict`), all always present, nulls explicit.

`stop_after_tool_call` defaults to False and `created_at` to the epoch second; `metrics` is
`{"start_time", "end_time", "duration"}` (floats) once the call finished, else null;
`child_run_id` is the member's run id on a completed `delegate_task_to_member`.
"""


def _spec(name: str, member: bool, fields: tuple[str, ...], defaults: tuple[tuple[str, object], ...] = ()) -> EventSpec:
    return EventSpec(name=name, member=member, fields=fields, defaults=defaults)


_STR = ("content_type", "str")

_TEAM_SPECS: tuple[EventSpec, ...] = (
    _spec("TeamRunStarted", False, ("content", "model", "model_provider"), (("model", ""), ("model_provider", ""))),
    # reasoning_content "" comes from agno's content-event factory, which always passes a
    # string (the dataclass default is None); every captured TeamRunContent carries it.
    _spec(
        "TeamRunContent",
        False,
        (
            "content",
            "content_type",
            "reasoning_content",
            "model_provider_data",
            "additional_input",
            "reasoning_messages",
            "reasoning_steps",
            "references",
            "response_audio",
            "image",
            "citations",
        ),
        (_STR, ("reasoning_content", "")),
    ),
    _spec("TeamRunIntermediateContent", False, ("content", "content_type"), (_STR,)),
    _spec("TeamRunContentCompleted", False, ("content",)),
    _spec(
        "TeamRunCompleted",
        False,
        (
            "content",
            "content_type",
            "reasoning_content",
            "model_provider_data",
            "files",
            "session_state",
            "metadata",
            "additional_input",
            "reasoning_messages",
            "reasoning_steps",
            "references",
            "member_responses",
            "images",
            "videos",
            "audio",
            "response_audio",
            "citations",
            "metrics",
        ),
        (_STR,),
    ),
    _spec("TeamRunError", False, ("content", "error_type", "error_id", "additional_data")),
    _spec("TeamRunCancelled", False, ("content", "reason")),
    _spec("TeamRunPaused", False, ("content", "tools", "requirements")),
    _spec("TeamRunContinued", False, ("content",)),
    _spec("TeamPreHookStarted", False, ("content", "pre_hook_name", "run_input")),
    _spec("TeamPreHookCompleted", False, ("content", "pre_hook_name", "run_input")),
    _spec("TeamPostHookStarted", False, ("content", "post_hook_name")),
    _spec("TeamPostHookCompleted", False, ("content", "post_hook_name")),
    _spec("TeamToolCallStarted", False, ("content", "tool")),
    _spec("TeamToolCallCompleted", False, ("content", "files", "images", "videos", "audio", "tool")),
    _spec("TeamToolCallError", False, ("content", "error", "tool")),
    _spec("TeamReasoningStarted", False, ("content",)),
    _spec(
        "TeamReasoningStep", False, ("content", "content_type", "reasoning_content"), (_STR, ("reasoning_content", ""))
    ),
    _spec("TeamReasoningContentDelta", False, ("content", "reasoning_content"), (("reasoning_content", ""),)),
    _spec("TeamReasoningCompleted", False, ("content", "content_type"), (_STR,)),
    _spec("TeamMemoryUpdateStarted", False, ("content",)),
    _spec("TeamMemoryUpdateCompleted", False, ("content", "memories")),
    _spec("TeamSessionSummaryStarted", False, ("content",)),
    _spec("TeamSessionSummaryCompleted", False, ("content", "session_summary")),
    _spec("TeamParserModelResponseStarted", False, ("content",)),
    _spec("TeamParserModelResponseCompleted", False, ("content",)),
    _spec("TeamOutputModelResponseStarted", False, ("content",)),
    _spec("TeamOutputModelResponseCompleted", False, ("content",)),
    _spec("TeamModelRequestStarted", False, ("content", "model", "model_provider")),
    _spec(
        "TeamModelRequestCompleted",
        False,
        (
            "content",
            "model",
            "model_provider",
            "input_tokens",
            "output_tokens",
            "total_tokens",
            "time_to_first_token",
            "reasoning_tokens",
            "cache_read_tokens",
            "cache_write_tokens",
        ),
    ),
    _spec("TeamCompressionStarted", False, ("content",)),
    _spec(
        "TeamCompressionCompleted", False, ("content", "tool_results_compressed", "original_size", "compressed_size")
    ),
    _spec("TeamFollowupsStarted", False, ("content",)),
    _spec("TeamFollowupsCompleted", False, ("content", "followups")),
    _spec(
        "TeamTaskIterationStarted",
        False,
        ("content", "iteration", "max_iterations"),
        (("iteration", 0), ("max_iterations", 0)),
    ),
    _spec(
        "TeamTaskIterationCompleted",
        False,
        ("content", "iteration", "max_iterations", "task_summary"),
        (("iteration", 0), ("max_iterations", 0)),
    ),
    _spec(
        "TeamTaskStateUpdated",
        False,
        ("content", "task_summary", "goal_complete", "completion_summary", "tasks"),
        (("goal_complete", False), ("tasks", ())),
    ),
    _spec(
        "TeamTaskCreated",
        False,
        ("content", "task_id", "title", "description", "assignee", "status", "dependencies"),
        (("task_id", ""), ("title", ""), ("description", ""), ("status", "pending"), ("dependencies", ())),
    ),
    _spec(
        "TeamTaskUpdated",
        False,
        ("content", "task_id", "title", "status", "previous_status", "result", "assignee"),
        (("task_id", ""), ("title", ""), ("status", "")),
    ),
    _spec("CustomEvent", False, ("content",)),
)

_MEMBER_SPECS: tuple[EventSpec, ...] = (
    _spec("RunStarted", True, ("content", "model", "model_provider", "tools"), (("model", ""), ("model_provider", ""))),
    # reasoning_content "": see TeamRunContent.
    _spec(
        "RunContent",
        True,
        (
            "content",
            "workflow_agent",
            "content_type",
            "reasoning_content",
            "model_provider_data",
            "additional_input",
            "reasoning_messages",
            "reasoning_steps",
            "references",
            "response_audio",
            "image",
            "citations",
            "tools",
        ),
        (("workflow_agent", False), _STR, ("reasoning_content", "")),
    ),
    _spec("RunContentCompleted", True, ("content", "tools")),
    _spec("RunIntermediateContent", True, ("content", "content_type", "tools"), (_STR,)),
    _spec(
        "RunCompleted",
        True,
        (
            "content",
            "content_type",
            "reasoning_content",
            "model_provider_data",
            "files",
            "session_state",
            "metadata",
            "additional_input",
            "reasoning_messages",
            "reasoning_steps",
            "references",
            "images",
            "videos",
            "audio",
            "response_audio",
            "citations",
            "tools",
            "metrics",
        ),
        (_STR,),
    ),
    _spec("RunError", True, ("content", "error_type", "error_id", "additional_data", "tools")),
    _spec("RunCancelled", True, ("content", "reason", "tools")),
    _spec("RunPaused", True, ("content", "tools", "requirements")),
    _spec("RunContinued", True, ("content", "tools")),
    _spec("PreHookStarted", True, ("content", "pre_hook_name", "tools", "run_input")),
    _spec("PreHookCompleted", True, ("content", "pre_hook_name", "tools", "run_input")),
    _spec("PostHookStarted", True, ("content", "post_hook_name", "tools")),
    _spec("PostHookCompleted", True, ("content", "post_hook_name", "tools")),
    _spec("ToolCallStarted", True, ("content", "tools", "tool")),
    _spec("ToolCallCompleted", True, ("content", "files", "images", "videos", "audio", "tools", "tool")),
    _spec("ToolCallError", True, ("content", "error", "tools", "tool")),
    _spec("ReasoningStarted", True, ("content", "tools")),
    _spec(
        "ReasoningStep",
        True,
        ("content", "content_type", "reasoning_content", "tools"),
        (_STR, ("reasoning_content", "")),
    ),
    _spec("ReasoningContentDelta", True, ("content", "reasoning_content", "tools"), (("reasoning_content", ""),)),
    _spec("ReasoningCompleted", True, ("content", "content_type", "tools"), (_STR,)),
    _spec("MemoryUpdateStarted", True, ("content", "tools")),
    _spec("MemoryUpdateCompleted", True, ("content", "tools", "memories")),
    _spec("SessionSummaryStarted", True, ("content", "tools")),
    _spec("SessionSummaryCompleted", True, ("content", "tools", "session_summary")),
    _spec("ParserModelResponseStarted", True, ("content", "tools")),
    _spec("ParserModelResponseCompleted", True, ("content", "tools")),
    _spec("OutputModelResponseStarted", True, ("content", "tools")),
    _spec("OutputModelResponseCompleted", True, ("content", "tools")),
    _spec("ModelRequestStarted", True, ("content", "model", "model_provider", "tools")),
    _spec(
        "ModelRequestCompleted",
        True,
        (
            "content",
            "model",
            "model_provider",
            "input_tokens",
            "output_tokens",
            "total_tokens",
            "time_to_first_token",
            "reasoning_tokens",
            "cache_read_tokens",
            "cache_write_tokens",
            "tools",
        ),
    ),
    _spec("CompressionStarted", True, ("content", "tools")),
    _spec(
        "CompressionCompleted",
        True,
        ("content", "tool_results_compressed", "original_size", "compressed_size", "tools"),
    ),
    _spec("CompactionStarted", True, ("content", "tools")),
    _spec(
        "CompactionCompleted",
        True,
        ("content", "messages_compacted", "tokens_before", "tokens_after", "archived", "tools"),
    ),
    _spec("FollowupsStarted", True, ("content", "tools")),
    _spec("FollowupsCompleted", True, ("content", "followups", "tools")),
    _spec("CustomEvent", True, ("content", "tool_call_id", "tools")),
)

TEAM_EVENTS: dict[str, EventSpec] = {s.name: s for s in _TEAM_SPECS}
"""The 40 team event types (`TeamRunEvent` in agno), keyed by wire name."""

MEMBER_EVENTS: dict[str, EventSpec] = {s.name: s for s in _MEMBER_SPECS}
"""The 37 member agent event types (`RunEvent` in agno), keyed by wire name."""

EVENTS: dict[str, EventSpec] = {**MEMBER_EVENTS, **TEAM_EVENTS}
"""Every event type by wire name; `CustomEvent` here is the team variant."""

MODEL_CLASSES = {"OpenAI": "OpenAIChat", "Anthropic": "Claude", "Google": "Gemini", "Groq": "Groq", "Ollama": "Ollama"}
"""The agno model class AgentOS names for a provider (`model.name` in `/teams` and sessions)."""
