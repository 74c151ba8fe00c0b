"""The Vercel AI SDK UI message stream: parts, timing and faults over a real server, read by `ai`."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mockserver.settings import Settings
from tests.browsers import chromium, serve_folder
from tests.conftest import SHIPPED, TEST_SCENARIOS, run_server
from tests.node_clients import NODE_DIR, bundle, node_script


def chat(message: str, chat_id: str = "chat-1") -> dict[str, Any]:
    """useChat's request body for one new user message."""
    user = {"id": "u1", "role": "user", "parts": [{"type": "text", "text": message}]}
    return {"id": chat_id, "messages": [user], "trigger": "submit-message"}


def parse_parts(body: bytes) -> list[dict[str, Any]]:
    """The parts of a UI message stream; asserts `data:` framing and the closing `[DONE]`."""
    blocks = [b for b in body.decode().split("\n\n") if b and not b.startswith(":")]
    assert blocks[-1] == "data: [DONE]"
    assert all(b.startswith("data: ") and "\n" not in b for b in blocks)
    return [json.loads(b[6:]) for b in blocks[:-1]]


def test_chat_streams_the_ui_message_parts(shipped_url: str) -> None:
    response = httpx.post(f"{shipped_url}/teams/quick-team/chat", json=chat("hi there"), timeout=10)
    assert response.status_code == 200
    assert response.headers["x-vercel-ai-ui-message-stream"] == "v1"
    assert response.headers["content-type"].startswith("text/event-stream")
    parts = parse_parts(response.content)
    kinds = [p["type"] for p in parts]
    assert kinds[:3] == ["start", "start-step", "text-start"]
    assert kinds[-3:] == ["text-end", "finish-step", "finish"]
    assert parts[-1] == {"type": "finish", "finishReason": "stop"}
    text = "".join(p["delta"] for p in parts if p["type"] == "text-delta")
    assert text == 'Hi! You said "hi there". This is a quick reply from Quick Team.'


def test_chat_run_is_stored_in_the_chat_session(shipped_url: str) -> None:
    response = httpx.post(f"{shipped_url}/teams/quick-team/chat", json=chat("hello", "chat-stored"), timeout=10)
    message_id = parse_parts(response.content)[0]["messageId"]
    runs = httpx.get(f"{shipped_url}/sessions/chat-stored/runs", params={"type": "team"}, timeout=10).json()
    assert [run["run_id"] for run in runs] == [message_id]


def test_chat_shows_reasoning_tools_and_members(shipped_url: str) -> None:
    parts = parse_parts(httpx.post(f"{shipped_url}/teams/research-team/chat", json=chat("x"), timeout=10).content)
    kinds = [p["type"] for p in parts]
    assert {"reasoning-start", "reasoning-delta", "reasoning-end"} <= set(kinds)
    tools = [p["toolName"] for p in parts if p["type"] == "tool-input-available"]
    assert tools == ["delegate_task_to_member", "delegate_task_to_member"]  # member tools stay in their part
    members = {p["id"]: p["data"] for p in parts if p["type"] == "data-agno-member"}
    assert [(m["agentId"], m["status"]) for m in members.values()] == [
        ("researcher", "COMPLETED"),
        ("writer", "COMPLETED"),
    ]
    assert [t["toolName"] for t in next(iter(members.values()))["tools"]] == ["web_search"]
    # a new step after each round of tool results
    assert kinds.count("start-step") == 3 and kinds.count("finish-step") == 3


def test_chat_picks_the_team_from_the_query_or_the_default() -> None:
    with run_server(Settings(scenarios=SHIPPED, speed=0, chat_default="research-team")) as url:
        named = parse_parts(httpx.post(f"{url}/api/chat?team=quick-team", json=chat("hi"), timeout=10).content)
        default = parse_parts(httpx.post(f"{url}/api/chat", json=chat("hi"), timeout=10).content)
    assert "Quick Team" in "".join(p.get("delta", "") for p in named)
    assert any(p["type"] == "reasoning-start" for p in default)


@pytest.mark.parametrize(
    ("path", "body", "status", "detail"),
    [
        ("/api/chat", chat("hi"), 400, "No team named: add ?team=TEAM_ID or start with --chat-default"),
        ("/api/chat?team=nope", chat("hi"), 404, "Team not found"),
        ("/teams/nope/chat", chat("hi"), 404, "Team not found"),
        ("/teams/quick-team/chat", {"messages": []}, 422, "id: Field required"),
        ("/teams/quick-team/chat", {"id": "c"}, 422, "messages: Field required"),
        ("/teams/quick-team/chat", {"id": "c", "messages": ["hi"]}, 422, "messages.0: Each message needs a 'role'"),
    ],
)
def test_chat_bad_requests_get_a_json_4xx(shipped_url: str, path: str, body: Any, status: int, detail: str) -> None:
    response = httpx.post(f"{shipped_url}{path}", json=body, timeout=10)
    assert response.status_code == status
    assert response.json()["detail"].startswith(detail)


def test_chat_honours_the_scenario_timing() -> None:
    with run_server(Settings(scenarios=TEST_SCENARIOS, speed=1)) as url:
        arrivals = []
        start = time.monotonic()
        with httpx.stream("POST", f"{url}/teams/timing-team/chat", json=chat("go"), timeout=10) as response:
            for line in response.iter_lines():
                if line.startswith("data: {") and json.loads(line[6:])["type"] == "text-delta":
                    arrivals.append(time.monotonic() - start)
    assert len(arrivals) == 10
    # ten words 50 ms apart after a 50 ms gap: late on a busy machine, never early
    assert arrivals[-1] >= 0.5 and arrivals[0] < arrivals[-1]


def test_chat_midstream_error_is_an_error_part(shipped_url: str) -> None:
    response = httpx.post(f"{shipped_url}/teams/error-midstream/chat", json=chat("hi"), timeout=10)
    assert response.status_code == 200
    parts = parse_parts(response.content)
    assert parts[-1] == {
        "type": "error",
        "errorText": "Model provider error: the upstream model returned 500 (overloaded)",
    }
    assert not any(p["type"] == "finish" for p in parts)


def test_chat_cancelled_run_is_an_abort_part(shipped_url: str) -> None:
    parts = parse_parts(httpx.post(f"{shipped_url}/teams/error-cancelled/chat", json=chat("hi"), timeout=10).content)
    assert [p["type"] for p in parts[-2:]] == ["text-end", "abort"]


def test_chat_http_status_fault_stays_an_http_status(shipped_url: str) -> None:
    response = httpx.post(f"{shipped_url}/teams/error-500/chat", json=chat("hi"), timeout=10)
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error_code"] == "INTERNAL_SERVER_ERROR"


def test_chat_drop_cuts_the_connection(shipped_url: str) -> None:
    received = b""
    with httpx.stream("POST", f"{shipped_url}/teams/error-drop/chat", json=chat("hi"), timeout=10) as response:
        assert response.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            for chunk in response.iter_raw():
                received += chunk
    assert received.startswith(b'data: {"type":"start"')
    assert b"[DONE]" not in received


# -- the real `ai` package -----------------------------------------------------------------------


def test_ai_sdk_transport_from_node_assembles_the_answer(shipped_url: str) -> None:
    result = node_script("ai_sdk.mjs", f"{shipped_url}/api/chat?team=quick-team", "hi there")
    assert result["error"] is None
    message = result["message"]
    assert message["role"] == "assistant"
    texts = [p for p in message["parts"] if p["type"] == "text"]
    assert texts == [
        {"type": "text", "text": 'Hi! You said "hi there". This is a quick reply from Quick Team.', "state": "done"}
    ]
    assert result["snapshots"] > 5  # it streamed in, word by word


def test_ai_sdk_transport_from_node_assembles_tool_parts(shipped_url: str) -> None:
    result = node_script("ai_sdk.mjs", f"{shipped_url}/teams/research-team/chat", "streaming UIs")
    assert result["error"] is None
    parts = result["message"]["parts"]
    tools = [p for p in parts if p["type"].startswith("tool-")]
    assert [(p["type"], p["state"], p["input"]["member_id"]) for p in tools] == [
        ("tool-delegate_task_to_member", "output-available", "researcher"),
        ("tool-delegate_task_to_member", "output-available", "writer"),
    ]
    assert tools[1]["output"] == "Draft: three findings, one table, one code sample. Ready for review."
    assert [p["data"]["agentId"] for p in parts if p["type"] == "data-agno-member"] == ["researcher", "writer"]
    answer = "".join(p["text"] for p in parts if p["type"] == "text")
    assert answer.startswith("## What I found\n\nYou asked: *streaming UIs*.")


def test_ai_sdk_transport_from_node_reports_the_run_error(shipped_url: str) -> None:
    result = node_script("ai_sdk.mjs", f"{shipped_url}/teams/error-midstream/chat")
    assert result["error"] == "Model provider error: the upstream model returned 500 (overloaded)"


# -- in a browser ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chat_page_origin() -> Iterator[str]:
    """tests/node (the page and its bundle) served from its own loopback origin."""
    bundle("ai_sdk_page.mjs")
    with serve_folder(NODE_DIR) as origin:
        yield origin


def test_ai_sdk_in_headless_chromium_shows_the_answer_streaming_in(chat_page_origin: str) -> None:
    with run_server(Settings(scenarios=TEST_SCENARIOS, speed=1)) as url, chromium() as browser:
        page = browser.new_page()
        page.goto(f"{chat_page_origin}/ai_sdk_page.html?api={url}/teams/timing-team/chat&message=go")
        page.wait_for_function("window.__chat && window.__chat.done", timeout=15000)
        chat = page.evaluate("window.__chat")
        shown = page.text_content("#answer")
    assert chat["error"] is None
    assert shown == "one two three four five six seven eight nine ten"
    texts = [snapshot["text"] for snapshot in chat["shown"]]
    partial = [text for text in texts if text and text != shown]
    assert len(set(partial)) >= 5  # the words appeared one after another, not all at once
    assert all(shown.startswith(text) for text in texts)
    assert chat["shown"][-1]["at"] >= 500  # ms after the page sent: 50 ms per word, never early


def test_chat_run_lands_in_the_request_namespace_journal_and_sessions(shipped_url: str) -> None:
    headers = {"X-Mock-Namespace": "chat-worker-3"}
    body = chat("journal me", "chat-ns-1")
    response = httpx.post(f"{shipped_url}/teams/quick-team/chat", json=body, headers=headers, timeout=10)
    assert response.status_code == 200
    runs = httpx.get(f"{shipped_url}/sessions/chat-ns-1/runs", params={"type": "team"}, headers=headers, timeout=10)
    assert runs.status_code == 200 and len(runs.json()) == 1
    assert httpx.get(f"{shipped_url}/sessions/chat-ns-1/runs", params={"type": "team"}, timeout=10).status_code == 404
    entries = httpx.get(f"{shipped_url}/__mock/requests", params={"namespace": "chat-worker-3"}, timeout=10).json()
    listed = entries if isinstance(entries, list) else entries["requests"]
    entry = next(e for e in listed if e["path"] == "/teams/quick-team/chat")
    assert entry["message"] == "journal me" and entry["session_id"] == "chat-ns-1"
    assert entry["ending"] == "completed" and entry["events"][-1] == "TeamRunCompleted"
