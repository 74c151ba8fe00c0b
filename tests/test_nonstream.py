"""stream=false: the TeamRunOutput JSON, made from the same plan as the stream."""

from __future__ import annotations

import httpx

from tests.conftest import capture_json, parse_sse


def post(url: str, message: str, team: str = "research-team", **data: str) -> httpx.Response:
    return httpx.post(f"{url}/teams/{team}/runs", data={"message": message, **data}, timeout=10)


def test_keys_match_the_capture_and_content_matches_the_stream(test_url: str) -> None:
    real = capture_json("b_stream_false")
    body = post(test_url, "What is the capital of France?", stream="false").json()
    assert list(body) == list(real)
    assert body["status"] == "COMPLETED" and body["content"] == real["content"]
    assert body["input"] == {"input_content": "What is the capital of France?"}
    assert [list(m) for m in body["member_responses"]] == [list(m) for m in real["member_responses"]]
    assert [t["tool_name"] for t in body["tools"]] == [t["tool_name"] for t in real["tools"]]
    assert list(body["tools"][0]) == list(real["tools"][0])
    assert [m["role"] for m in body["messages"]] == [m["role"] for m in real["messages"]]
    streamed = parse_sse(post(test_url, "What is the capital of France?").content)
    assert streamed[-1][1]["content"] == body["content"]


def test_user_id_is_echoed_in_its_place(test_url: str) -> None:
    real = capture_json("d4_session_fixed_nonstream")
    body = post(test_url, "[direct] third turn", stream="0", session_id="fixed", user_id="u-1").json()
    assert list(body) == list(real)
    assert (body["session_id"], body["user_id"]) == ("fixed", "u-1")


def test_a_failing_run_is_200_with_status_error(test_url: str) -> None:
    real = capture_json("l2_model_error_nonstream")
    response = post(test_url, "[fail] please", stream="false")
    assert response.status_code == 200
    body = response.json()
    assert list(body) == list(real)
    assert (body["status"], body["content"]) == ("ERROR", "FakeModel was asked to fail")
    assert body["events"][0]["event"] == "TeamRunError" and body["events"][0]["error_type"] == "RuntimeError"


def test_shipped_answers_agree_between_the_two_modes(shipped_url: str) -> None:
    for team, message in [
        ("research-team", "solar panels"),
        ("topic-team", "weather in Oslo?"),
        ("topic-team", "python code please"),
    ]:
        body = post(shipped_url, message, team, stream="false").json()
        frames = parse_sse(post(shipped_url, message, team).content)
        streamed = frames[-1][1]["content"].replace(frames[0][1]["run_id"], "RUN")
        assert body["content"].replace(body["run_id"], "RUN") == streamed
        assert [t["tool_name"] for t in body["tools"]] == [
            d["tool"]["tool_name"] for e, d in frames if e == "TeamToolCallCompleted"
        ]
