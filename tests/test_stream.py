"""The streamed run against the captures of a real AgentOS 3.1.10: framing, order, keys."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import capture_frames, parse_sse


def run(url: str, team: str = "research-team", **data: str) -> httpx.Response:
    return httpx.post(
        f"{url}/teams/{team}/runs", data={"message": "What is the capital of France?", **data}, timeout=10
    )


def test_headers_and_framing_are_agentos_sse(test_url: str) -> None:
    response = run(test_url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert "content-length" not in response.headers
    assert response.headers["transfer-encoding"] == "chunked"
    assert b"\r" not in response.content and b"id:" not in response.content
    for event, data in parse_sse(response.content):
        assert list(data)[:2] == ["created_at", "event"] and data["event"] == event
        assert isinstance(data["created_at"], int)


@pytest.mark.parametrize(
    ("capture", "message"),
    [
        ("a_stream_true", "What is the capital of France?"),
        ("a2_stream_true_direct", "[direct] say hello"),
        ("l1_model_error_stream", "[fail] please"),
    ],
)
def test_event_order_and_keys_match_the_capture(test_url: str, capture: str, message: str) -> None:
    expected = capture_frames(capture)
    got = parse_sse(run(test_url, message=message).content)
    assert [event for event, _ in got] == [event for event, _ in expected]
    for (event, data), (_, real) in zip(got, expected, strict=True):
        assert list(data) == list(real), event
        if "tool" in real:
            assert list(data["tool"]) == list(real["tool"])
        if "member_responses" in real:
            assert [list(m) for m in data["member_responses"]] == [list(m) for m in real["member_responses"]]


def test_envelopes_are_consistent_across_the_run(test_url: str) -> None:
    frames = parse_sse(run(test_url).content)
    team = [d for _, d in frames if "team_id" in d]
    members = [d for _, d in frames if "agent_id" in d]
    run_id, session_id = team[0]["run_id"], team[0]["session_id"]
    assert {d["run_id"] for d in team} == {run_id}
    assert {d["session_id"] for _, d in frames} == {session_id}
    assert {d["team_name"] for d in team} == {"Research Team"} and {d["nested_depth"] for _, d in frames} == {0}
    assert {d["parent_run_id"] for d in members} == {run_id}
    member_run = members[0]["run_id"]
    assert member_run != run_id and {d["run_id"] for d in members} == {member_run}
    delegation = next(d for _, d in frames if d["event"] == "TeamToolCallCompleted")
    assert delegation["tool"]["child_run_id"] == member_run
    assert delegation["tool"]["result"] == "According to lookup_fact, Paris is France's capital."
    completed = frames[-1][1]
    assert completed["member_responses"][0]["run_id"] == member_run


def test_deltas_join_to_the_completed_text(shipped_url: str) -> None:
    for team in ("research-team", "quick-team", "topic-team"):
        for message in ("hello", "what is the weather?", "write some python code"):
            frames = parse_sse(run(shipped_url, team, message=message).content)
            deltas = "".join(d["content"] for e, d in frames if e == "TeamRunContent")
            assert deltas and frames[-1][1]["content"] == deltas
            for run_id in {d["run_id"] for _, d in frames if "agent_id" in d}:
                member = "".join(d["content"] for e, d in frames if e == "RunContent" and d["run_id"] == run_id)
                done = next(d for e, d in frames if e == "RunCompleted" and d["run_id"] == run_id)
                assert done["content"] == member


def test_session_id_is_new_when_absent_or_empty_and_echoed_when_given(test_url: str) -> None:
    first = parse_sse(run(test_url, session_id="").content)[0][1]
    second = parse_sse(run(test_url).content)[0][1]
    assert uuid.UUID(first["session_id"]).version == 4
    assert first["session_id"] != second["session_id"] and first["run_id"] != second["run_id"]
    given = parse_sse(run(test_url, session_id="my-session", user_id="u-1").content)
    assert {d["session_id"] for _, d in given} == {"my-session"}
    assert all("user_id" not in d for _, d in given)


@pytest.mark.parametrize("stream", ["true", "1", "yes", "ON", "", None])
def test_stream_values_that_mean_true(test_url: str, stream: str | None) -> None:
    data = {"message": "[direct] hi"} | ({} if stream is None else {"stream": stream})
    response = httpx.post(f"{test_url}/teams/research-team/runs", files={k: (None, v) for k, v in data.items()})
    assert response.headers["content-type"].startswith("text/event-stream")


def test_urlencoded_form_and_trailing_slash_work_the_same(test_url: str) -> None:
    response = httpx.post(
        f"{test_url}/teams/research-team/runs/",
        data={"message": "[direct] hi", "monitor": "false", "session_state": "{}"},
    )
    assert [e for e, _ in parse_sse(response.content)][-1] == "TeamRunCompleted"


def test_unicode_is_raw_utf8_and_json_never_breaks_a_line(test_url: str) -> None:
    response = run(test_url, "templates-team", message='héllo "wörld"\nsecond line \\ 日本')
    assert "héllo".encode() in response.content
    frames = parse_sse(response.content)
    assert 'message=héllo "wörld"\nsecond line \\ 日本' in frames[-1][1]["content"]


def test_templates_fill_request_values_and_seeded_faker(test_url: str) -> None:
    frames = parse_sse(run(test_url, "templates-team", message="hi", session_id="s-1", user_id="ada").content)
    text = frames[-1][1]["content"]
    run_id = frames[0][1]["run_id"]
    assert text == f"message=hi session=s-1 user=ada run={run_id} team=Templates Team"
    custom = next(d for e, d in frames if e == "CustomEvent")
    again_frames = parse_sse(run(test_url, "templates-team", message="hi").content)
    again = next(d for e, d in again_frames if e == "CustomEvent")
    other_frames = parse_sse(run(test_url, "templates-team", message="other").content)
    other = next(d for e, d in other_frames if e == "CustomEvent")
    assert custom["note"] == again["note"] != other["note"]
    assert "{{" not in custom["note"]
