"""The mock against the `agentos-3.1.10-fidelity` captures: the same request bytes, the same answer.

Each capture was made by `tests/capture_fidelity.py` against a real AgentOS 3.1.10. A test sends
the captured request to the mock (the test scenarios, whose `research-team` tells the captured
team's story) and compares what a frontend would notice: status, `allow`, the body or its shape.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.settings import Settings
from tests.conftest import TEST_SCENARIOS, run_server

FIDELITY = Path(__file__).resolve().parent / "captures" / "agentos-3.1.10-fidelity"


def capture(name: str) -> dict[str, Any]:
    return json.loads((FIDELITY / f"{name}.json").read_text())


def replay(url: str, name: str) -> tuple[dict[str, Any], httpx.Response]:
    """(the capture, the mock's answer to its request)."""
    exchange = capture(name)
    request = exchange["request"]
    body = base64.b64decode(request["body_base64"]) if "body_base64" in request else request["body"].encode()
    response = httpx.request(request["method"], url + request["path"], headers=request["headers"], content=body)
    return exchange, response


def header(exchange: dict[str, Any], name: str) -> str | None:
    return next((v for k, v in exchange["headers"] if k == name), None)


@pytest.fixture(scope="module")
def agentos_url() -> Iterator[str]:
    """The test scenarios with AgentOS's own error bodies, so they compare byte for byte."""
    with run_server(Settings(scenarios=TEST_SCENARIOS, speed=0, error_format="agentos")) as url:
        yield url


# -- 1. uploads and forms --------------------------------------------------------------------


def test_an_empty_file_input_is_ignored(agentos_url: str) -> None:
    exchange, response = replay(agentos_url, "u1_empty_file_input")
    assert exchange["status"] == response.status_code == 200
    real, mock = json.loads(exchange["body"]), response.json()
    assert list(mock) == list(real)
    assert mock["input"] == {"input_content": "hello"} == real["input"], "no file reaches the run"


@pytest.mark.parametrize("name", ["u2_files_text_field", "u3_multipart_garbage", "u4_multipart_no_boundary"])
def test_bad_uploads_are_worded_as_agentos_words_them(agentos_url: str, name: str) -> None:
    exchange, response = replay(agentos_url, name)
    assert response.status_code == exchange["status"]
    assert response.json() == json.loads(exchange["body"])


# -- 5. HTTP details behind proxies and health checks ----------------------------------------


@pytest.mark.parametrize(
    "name", ["t_get_teams_slash", "t_get_health_slash", "t_get_sessions_slash", "t_get_agents_slash"]
)
def test_a_trailing_slash_is_the_same_route_not_a_redirect(agentos_url: str, name: str) -> None:
    exchange, response = replay(agentos_url, name)
    assert response.status_code == exchange["status"] == 200
    assert type(response.json()) is type(json.loads(exchange["body"]))


@pytest.mark.parametrize("name", ["t_head_health", "t_post_health", "t_put_sessions"])
def test_a_wrong_method_is_a_405_allowing_what_agentos_allows(agentos_url: str, name: str) -> None:
    exchange, response = replay(agentos_url, name)
    assert response.status_code == exchange["status"] == 405
    assert response.headers["allow"] == header(exchange, "allow") == "GET"
    assert response.content == exchange["body"].encode()


def test_a_trailing_slash_on_a_run_streams_as_without(agentos_url: str) -> None:
    with httpx.stream("POST", agentos_url + "/teams/research-team/runs/", data={"message": "[direct] hi"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")


# -- 3. session history ----------------------------------------------------------------------

SESSION_STEPS = [
    "s1_owned_run",
    "s2_no_user_into_owned",
    "s3_delegating_run",
    "s4_session_detail",
    "s5_session_runs",
    "s6_session_name_derived",
    "s7_rename",
    "s8_session_name_renamed",
    "s9_db_id_bogus_list",
    "s10_db_id_bogus_one",
    "s11_team_session_as_agent",
    "s12_patch",
]


@pytest.fixture(scope="module")
def session_story() -> Iterator[dict[str, tuple[dict[str, Any], httpx.Response]]]:
    """The captured session story replayed, step by step, on a mock of its own."""
    with run_server(Settings(scenarios=TEST_SCENARIOS, speed=0, error_format="agentos")) as url:
        yield {name: replay(url, name) for name in SESSION_STEPS}


def real_and_mock(story: dict[str, tuple[dict[str, Any], httpx.Response]], name: str) -> tuple[Any, Any]:
    exchange, response = story[name]
    assert response.status_code == exchange["status"], name
    return json.loads(exchange["body"]), response.json()


def test_an_owned_session_refuses_a_run_without_a_user(session_story: dict) -> None:
    real, mock = real_and_mock(session_story, "s2_no_user_into_owned")
    assert mock == real == {"detail": "Session not found"}


@pytest.mark.parametrize("name", ["s4_session_detail", "s7_rename", "s12_patch"])
def test_chat_history_has_no_tool_messages_and_the_keys_are_agentos(session_story: dict, name: str) -> None:
    real, mock = real_and_mock(session_story, name)
    assert list(mock) == list(real), "rename and PATCH write the null keys, GET leaves them out"
    assert [m["role"] for m in mock["chat_history"]] == [m["role"] for m in real["chat_history"]]
    assert {k: mock[k] for k in ("session_summary", "metadata", "total_tokens") if k in real} == {
        k: real[k] for k in ("session_summary", "metadata", "total_tokens") if k in real
    }


def test_member_events_are_stored_on_the_team_run(session_story: dict) -> None:
    real, mock = real_and_mock(session_story, "s5_session_runs")
    assert [list(run) for run in mock] == [list(run) for run in real]
    assert [[e["event"] for e in run.get("events", [])] for run in mock] == [
        [e["event"] for e in run.get("events", [])] for run in real
    ]


def test_session_name_matches_only_a_name_set_by_rename(session_story: dict) -> None:
    real, mock = real_and_mock(session_story, "s6_session_name_derived")
    assert mock["data"] == real["data"] == []
    real, mock = real_and_mock(session_story, "s8_session_name_renamed")
    names = [s["session_name"] for s in mock["data"]]
    assert names == [s["session_name"] for s in real["data"]] == ["Capital question"]


@pytest.mark.parametrize("name", ["s9_db_id_bogus_list", "s10_db_id_bogus_one"])
def test_an_unknown_db_id_is_a_404(session_story: dict, name: str) -> None:
    real, mock = real_and_mock(session_story, name)
    assert mock == real == {"detail": "No database found with id 'bogus'"}


def test_a_team_session_reads_as_an_agent_session(session_story: dict) -> None:
    real, mock = real_and_mock(session_story, "s11_team_session_as_agent")
    assert list(mock) == list(real)
    assert mock["agent_session_id"] == mock["session_id"] == real["session_id"]


def test_the_db_id_from_teams_is_accepted(agentos_url: str) -> None:
    db_id = httpx.get(agentos_url + "/teams").json()[0]["db_id"]
    assert httpx.get(agentos_url + "/sessions", params={"db_id": db_id}).status_code == 200


# -- 7. smaller ones -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["t_delete_sessions_no_body", "t_delete_sessions_empty_object"])
def test_delete_sessions_without_its_fields_is_fastapis_422(agentos_url: str, name: str) -> None:
    exchange, response = replay(agentos_url, name)
    assert response.status_code == exchange["status"] == 422
    assert response.json() == json.loads(exchange["body"])


@pytest.mark.parametrize("name", ["a1_two_authorization_headers", "a2_two_authorization_headers_wrong_first"])
def test_the_first_of_two_authorization_headers_counts(name: str) -> None:
    settings = Settings(scenarios=TEST_SCENARIOS, speed=0, error_format="agentos", security_key="fidelity-key")
    with run_server(settings) as url:
        exchange, response = replay(url, name)
    assert response.status_code == exchange["status"]
    if exchange["status"] == 401:
        assert response.json() == json.loads(exchange["body"])


# -- 2. the routes a UI calls around runs ----------------------------------------------------

EMPTY_STATE_CAPTURES = [
    "r_workflows",
    "r_workflows_nope",
    "r_root",
    "r_memories",
    "r_memory_topics",
    "r_user_memory_stats",
    "r_knowledge_content",
    "r_knowledge_config",
    "r_metrics",
    "r_traces",
    "r_trace_session_stats",
    "r_eval_runs",
    "r_schedules",
    "r_approvals",
    "r_approvals_count",
    "r_components",
    "r_learnings",
]


def without_timing(body: Any) -> Any:
    if isinstance(body, dict) and isinstance(body.get("meta"), dict):
        return {**body, "meta": {**body["meta"], "search_time_ms": 0.0}}
    return body


@pytest.mark.parametrize("name", EMPTY_STATE_CAPTURES)
def test_a_fresh_agentos_empty_state_is_served(agentos_url: str, name: str) -> None:
    exchange, response = replay(agentos_url, name)
    assert response.status_code == exchange["status"]
    assert without_timing(response.json()) == without_timing(json.loads(exchange["body"]))


def test_info_has_the_keys_of_agentos(agentos_url: str) -> None:
    exchange, response = replay(agentos_url, "r_info")
    real, mock = json.loads(exchange["body"]), response.json()
    assert list(mock) == list(real)
    assert {k: mock[k] for k in ("agno_version", "mcp", "auth_mode", "user_isolation")} == {
        k: real[k] for k in ("agno_version", "mcp", "auth_mode", "user_isolation")
    }


def test_the_registry_lists_what_the_scenarios_declare(agentos_url: str) -> None:
    exchange, response = replay(agentos_url, "r_registry")
    real, mock = json.loads(exchange["body"]), response.json()
    assert list(mock) == list(real) and list(mock["meta"]) == list(real["meta"])
    assert {e["type"] for e in mock["data"]} >= {"db", "model", "team"}
    for entry in mock["data"]:
        like = next(e for e in real["data"] if e["type"] == entry["type"])
        assert set(entry) <= set(like), entry
    assert [(e["type"], e["name"]) for e in mock["data"]] == sorted((e["type"], e["name"]) for e in mock["data"])


@pytest.mark.parametrize("name", ["r_docs", "r_redoc"])
def test_the_api_docs_pages_are_agentos_pages(agentos_url: str, name: str) -> None:
    exchange, response = replay(agentos_url, name)
    assert response.status_code == exchange["status"] == 200
    assert response.headers["content-type"] == header(exchange, "content-type")
    assert response.text == exchange["body"]


def test_openapi_lists_the_served_agentos_operations_with_the_real_schemas(agentos_url: str) -> None:
    from tests.conftest import CAPTURES

    real = json.loads((CAPTURES / "j10_openapi.body").read_bytes())
    mock = httpx.get(agentos_url + "/openapi.json").json()
    post = mock["paths"]["/teams/{team_id}/runs"]["post"]
    assert post == real["paths"]["/teams/{team_id}/runs"]["post"]
    assert set(mock["paths"]) <= set(real["paths"]) | {p for p, i in mock["paths"].items() if _own(i)}
    for schema in mock["components"]["schemas"]:
        assert mock["components"]["schemas"][schema] == real["components"]["schemas"][schema]
    assert "/sessions/{session_id}/rename" in mock["paths"] and "/queue" not in mock["paths"]


def _own(item: dict[str, Any]) -> bool:
    return all(op.get("tags") == ["mockserver"] for op in item.values() if isinstance(op, dict))


def test_the_shipped_openapi_is_in_step_with_the_routes() -> None:
    from mockserver.http.openapi import SHIPPED
    from tests.trim_openapi import expected

    assert json.loads(SHIPPED.read_text(encoding="utf-8")) == expected(), "run python -m tests.trim_openapi"


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("a_open_root", 200),
        ("a_open_info", 200),
        ("a_open_docs", 200),
        ("a_open_redoc", 200),
        ("a_open_workflows", 401),
        ("a_open_memories", 401),
    ],
)
def test_what_a_security_key_leaves_open(name: str, status: int) -> None:
    settings = Settings(scenarios=TEST_SCENARIOS, speed=0, error_format="agentos", security_key="fidelity-key")
    with run_server(settings) as url:
        exchange, response = replay(url, name)
        assert httpx.get(url + "/openapi.json").status_code == 200
    assert response.status_code == exchange["status"] == status


TEAM_RUN_STEPS = [
    "r_run_delegate",
    "r_team_runs",
    "r_team_runs_no_session",
    "r_team_runs_unknown_session",
    "r_team_runs_unknown_team",
    "r_team_run_unknown",
    "r_continue_unknown_run",
    "r_continue_no_session",
]


@pytest.fixture(scope="module")
def team_run_story() -> Iterator[dict[str, tuple[dict[str, Any], httpx.Response]]]:
    with run_server(Settings(scenarios=TEST_SCENARIOS, speed=0, error_format="agentos")) as url:
        story = {name: replay(url, name) for name in TEAM_RUN_STEPS}
        run_id = story["r_run_delegate"][1].json()["run_id"]
        exchange = capture("r_team_run")
        story["r_team_run"] = (exchange, httpx.get(f"{url}/teams/research-team/runs/{run_id}?session_id=S"))
        yield story


def test_team_runs_are_listed_with_every_stored_key(team_run_story: dict) -> None:
    real, mock = real_and_mock(team_run_story, "r_team_runs")
    assert [list(run) for run in mock] == [list(run) for run in real]
    nulls = [k for k, v in real[0].items() if v is None]
    assert {k: mock[0][k] for k in nulls} == dict.fromkeys(nulls)


def test_a_team_run_reads_back_as_its_run_output(team_run_story: dict) -> None:
    real, mock = real_and_mock(team_run_story, "r_team_run")
    assert list(mock) == list(real)
    assert mock["events"] == real["events"] == [], "a stream=false run stores no events"


@pytest.mark.parametrize(
    "name",
    [
        "r_team_runs_no_session",
        "r_team_runs_unknown_session",
        "r_team_runs_unknown_team",
        "r_team_run_unknown",
        "r_continue_no_session",
    ],
)
def test_team_run_reads_fail_as_agentos_fails_them(team_run_story: dict, name: str) -> None:
    real, mock = real_and_mock(team_run_story, name)
    assert mock == real


def test_continuing_an_unknown_run_streams_one_error_frame(team_run_story: dict) -> None:
    exchange, response = team_run_story["r_continue_unknown_run"]
    assert response.status_code == exchange["status"] == 200
    assert response.headers["content-type"] == header(exchange, "content-type")
    real, mock = (json.loads(body.split("data: ", 1)[1]) for body in (exchange["body"], response.text))
    assert {**mock, "created_at": 0} == {**real, "created_at": 0}


# -- 9. agent-ui's mid-stream view -----------------------------------------------------------


def agent_ui_views(frames: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """What agent-ui shows after each TeamRunContent: `content.replace(lastContent, '')` appended."""
    shown, last, views = "", "", []
    for event, data in frames:
        if event == "TeamRunContent" and isinstance(data.get("content"), str):
            shown += data["content"].replace(last, "", 1) if last else data["content"]
            last = data["content"]
            views.append(shown)
    return views


def test_real_deltas_never_lose_text_in_agent_ui() -> None:
    from tests.conftest import capture_frames

    frames = capture_frames("a_stream_true")
    final = next(d["content"] for e, d in frames if e == "TeamRunCompleted")
    assert all(final.startswith(view) for view in agent_ui_views(frames))


def test_mock_deltas_never_lose_text_in_agent_ui(shipped_url: str) -> None:
    from tests.conftest import parse_sse

    response = httpx.post(shipped_url + "/teams/research-team/runs", data={"message": "streaming UIs"}, timeout=30)
    frames = parse_sse(response.content)
    final = next(d["content"] for e, d in frames if e == "TeamRunCompleted")
    assert "|---|---|---|" in final
    views = agent_ui_views(frames)
    assert views[-1] == final
    assert all(final.startswith(view) for view in views), "each view agent-ui shows is a prefix of the answer"
    deltas = [d["content"] for e, d in frames if e == "TeamRunContent"]
    assert not any(prev and prev in delta for prev, delta in itertools.pairwise(deltas))


def test_joining_repeats_keeps_every_character() -> None:
    from mockserver.agentos.expand import no_repeats

    deltas = ["| ", "Verdict ", "|\n", "|---|---|---|\n", "ha ", "ha ", "ha"]
    joined = no_repeats(deltas)
    assert "".join(joined) == "".join(deltas)
    assert joined == ["| ", "Verdict ", "|\n|---|---|---|\n", "ha ha ", "ha"]


# -- 6. run records as full as AgentOS writes them ------------------------------------------


@pytest.fixture(scope="module")
def extras_story() -> Iterator[dict[str, tuple[dict[str, Any], httpx.Response]]]:
    with run_server(Settings(scenarios=TEST_SCENARIOS, speed=0, error_format="agentos")) as url:
        yield {name: replay(url, name) for name in ("x1_delegate_nonstream_extras", "x2_delegate_stream_extras")}


def _member(body: dict[str, Any]) -> dict[str, Any]:
    member: dict[str, Any] = body["member_responses"][0]
    return member


def test_a_run_output_echoes_session_state_metadata_and_passes_uploads_to_the_member(extras_story: dict) -> None:
    real, mock = real_and_mock(extras_story, "x1_delegate_nonstream_extras")
    assert list(mock) == [k for k in real if k != "mock_uploads"] + ["mock_uploads"]
    assert (mock["session_state"], mock["metadata"]) == (real["session_state"], real["metadata"])
    assert list(_member(mock)) == list(_member(real))
    assert list(_member(mock)["session_state"]) == list(_member(real)["session_state"])
    assert _member(mock)["session_state"]["a"] == 1 and _member(mock)["metadata"] == {"m": 1}
    assert list(_member(mock)["input"]) == list(_member(real)["input"]) == ["input_content", "images"]
    user = next(m for m in _member(mock)["messages"] if m["role"] == "user")
    assert list(user) == list(next(m for m in _member(real)["messages"] if m["role"] == "user"))


def test_streamed_completions_carry_metrics_details_and_full_member_transcripts(extras_story: dict) -> None:
    from tests.conftest import parse_sse

    exchange, response = extras_story["x2_delegate_stream_extras"]
    real, mock = parse_sse(exchange["body"].encode()), parse_sse(response.content)
    for event in ("RunCompleted", "TeamRunCompleted"):
        (real_data,), (mock_data,) = ([d for e, d in frames if e == event] for frames in (real, mock))
        assert list(mock_data) == list(real_data), event
        keys = ["time_to_first_token", "duration", "details"]
        assert list(mock_data["metrics"]) == list(real_data["metrics"]) == keys
    real_done, mock_done = (next(d for e, d in frames if e == "TeamRunCompleted") for frames in (real, mock))
    member_real, member_mock = _member(real_done), _member(mock_done)
    assert [m["role"] for m in member_mock["messages"]] == [m["role"] for m in member_real["messages"]]
    assert [list(m) for m in member_mock["messages"][2:]] == [list(m) for m in member_real["messages"][2:]]


def test_the_user_message_names_audio_as_agno_does(agentos_url: str) -> None:
    from tests.samples import wav

    response = httpx.post(
        agentos_url + "/teams/research-team/runs",
        data={"message": "[direct] listen", "stream": "false"},
        files={"files": ("a.wav", wav(), "audio/wav")},
    )
    body = response.json()
    user = next(m for m in body["messages"] if m["role"] == "user")
    assert "audio" in user and "audios" not in user, "agno's Message field is `audio`"
    assert "audios" in body["input"], "TeamRunInput's field is `audios`"


def test_metadata_that_is_not_an_object_is_a_400(agentos_url: str) -> None:
    from tests.conftest import CAPTURES

    response = httpx.post(agentos_url + "/teams/research-team/runs", data={"message": "hi", "metadata": "[1, 2]"})
    assert response.status_code == 400
    assert response.content == (CAPTURES / "f7_metadata_array.body").read_bytes()


def test_a_run_cancelled_during_its_member_is_stored_as_agentos_stores_it(tmp_path: Path) -> None:
    from tests.slow_team import count, reading, write_slow_team

    with run_server(Settings(scenarios=write_slow_team(tmp_path), speed=1)) as url:
        data = {"message": "member please", "session_id": "X3", "user_id": "u1"}
        with reading(f"{url}/teams/slow-team/runs", data) as stream:
            stream.wait_for(count("RunContent"))
            httpx.post(f"{url}/teams/slow-team/runs/{stream.frames[0][1]['run_id']}/cancel")
            stream.finish()
        mock = httpx.get(f"{url}/sessions/X3/runs").json()
        listed = httpx.get(f"{url}/teams/slow-team/runs", params={"session_id": "X3"}).json()
    real = json.loads(capture("x5_session_runs_after_cancel")["body"])
    real_listed = json.loads(capture("x6_team_runs_after_cancel")["body"])
    assert [list(run) for run in mock] == [list(run) for run in real]
    assert [list(run) for run in listed] == [list(run) for run in real_listed]
    for ours, theirs in zip(mock, real, strict=True):
        assert (ours["status"], ours["cancellation_stage"]) == (theirs["status"], theirs["cancellation_stage"])
        assert [m["role"] for m in ours["messages"]] == [m["role"] for m in theirs["messages"]]
        assert [list(m) for m in ours["messages"]] == [list(m) for m in theirs["messages"]]
    team, real_team = mock[-1], real[-1]
    assert [(t["tool_name"], t["result"], bool(t["child_run_id"])) for t in team["tools"]] == [
        (t["tool_name"], t["result"], bool(t["child_run_id"])) for t in real_team["tools"]
    ]
    assert team["tools"][0]["child_run_id"] == mock[0]["run_id"]


LATE_TEAM = """\
version: 1
team: {id: late-team, name: Late Team, model: {id: fake-model-1, provider: Fake}}
scenarios:
  - name: slow
    gap: 400ms
    pace: 2 words/s
    events:
      - text: slow chunk 00. slow chunk 01. slow chunk 02.
"""


def test_an_immediate_cancel_still_sends_the_model_start_and_one_content_frame(tmp_path: Path) -> None:
    from tests.conftest import capture_frames
    from tests.slow_team import count, reading

    (tmp_path / "late-team.yaml").write_text(LATE_TEAM)
    with (
        run_server(Settings(scenarios=tmp_path, speed=1)) as url,
        reading(f"{url}/teams/late-team/runs", {"message": "go"}) as stream,
    ):
        stream.wait_for(count("TeamRunStarted"))
        httpx.post(f"{url}/teams/late-team/runs/{stream.frames[0][1]['run_id']}/cancel")
        frames = stream.finish()
    real = capture_frames("i6_cancel_immediately")
    assert [e for e, _ in frames] == [e for e, _ in real]
    cancelled = next(d for e, d in frames if e == "TeamRunCancelled")
    assert cancelled["content"] == "slow "


# -- 8. background runs and /resume ----------------------------------------------------------

BACKGROUND_TEAM = """\
version: 1
team: {id: research-team, name: Research Team, model: {id: fake-model-1, provider: Fake}}
scenarios:
  - name: slow
    gap: 0
    pace: 20 words/s
    events:
      - text: slow chunk 00. slow chunk 01. slow chunk 02. slow chunk 03. slow chunk 04. slow chunk 05.
"""


def sse_blocks(text: str) -> list[tuple[str, dict[str, Any]]]:
    """(event, data) of each frame, the resume meta frames included."""
    return [
        (block.split("\n", 1)[0][len("event: ") :], json.loads(block.split("data: ", 1)[1]))
        for block in text.split("\n\n")
        if block.startswith("event: ")
    ]


@pytest.fixture
def background_url(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "research-team.yaml").write_text(BACKGROUND_TEAM)
    with run_server(Settings(scenarios=tmp_path, speed=1)) as url:
        yield url


def _first_frames(url: str, data: dict[str, str], keep: int) -> list[tuple[str, dict[str, Any]]]:
    text = ""
    with httpx.stream("POST", url + "/teams/research-team/runs", data=data) as response:
        for chunk in response.iter_text():
            text += chunk
            if text.count("\n\n") >= keep:
                break
    return sse_blocks(text)[:keep]


def test_a_dropped_background_run_goes_on_and_resumes_where_the_client_stopped(background_url: str) -> None:
    real_first = capture("b1_background_stream_dropped")["frames"]
    first = _first_frames(background_url, {"message": "slow", "session_id": "B1", "background": "true"}, keep=5)
    assert [d["event_index"] for _, d in first] == [0, 1, 2, 3, 4]
    assert list(first[0][1]) == list(sse_blocks(real_first[0])[0][1]), "event_index comes last, as on AgentOS"
    run_id = first[0][1]["run_id"]
    resumed = httpx.post(
        f"{background_url}/teams/research-team/runs/{run_id}/resume",
        data={"last_event_index": "4", "session_id": "B1"},
        timeout=10,
    )
    assert resumed.headers["content-type"] == header(capture("b2_resume_running"), "content-type")
    frames = sse_blocks(resumed.text)
    metas = [e for e, _ in frames if e in ("catch_up", "subscribed")]
    assert metas in (["subscribed"], ["catch_up", "subscribed"])
    real_subscribed = sse_blocks(capture("b2_resume_running")["body"])[0][1]
    assert list(dict(frames)["subscribed"]) == list(real_subscribed)
    indexes = [d["event_index"] for e, d in frames if "event_index" in d]
    assert indexes == list(range(5, 5 + len(indexes))) and frames[-1][0] == "TeamRunCompleted"

    replayed = httpx.post(
        f"{background_url}/teams/research-team/runs/{run_id}/resume", data={"last_event_index": "4", "session_id": "B1"}
    )
    (meta_event, meta), *rest = sse_blocks(replayed.text)
    real_meta = sse_blocks(capture("b3_resume_finished")["body"])[0][1]
    assert meta_event == "replay" and list(meta) == list(real_meta)
    assert meta["status"] == "COMPLETED" and meta["total_events"] == len(rest) == meta["total_buffered"] - 5
    assert [d["event_index"] for _, d in rest] == indexes
    whole = sse_blocks(
        httpx.post(f"{background_url}/teams/research-team/runs/{run_id}/resume", data={"session_id": "B1"}).text
    )
    assert whole[0][1]["last_event_index_requested"] == -1 and whole[1][0] == "TeamRunStarted"
    stored = httpx.get(f"{background_url}/sessions/B1/runs").json()
    assert stored[-1]["status"] == "COMPLETED", "the run finished although its client left"


def test_a_background_run_without_streaming_is_accepted_then_replays_no_events(background_url: str) -> None:
    accepted = httpx.post(
        background_url + "/teams/research-team/runs",
        data={"message": "slow", "stream": "false", "session_id": "B2", "background": "true"},
    )
    real = capture("b5_background_nonstream")
    assert accepted.status_code == real["status"] == 202
    assert list(accepted.json()) == list(json.loads(real["body"])) and accepted.json()["status"] == "PENDING"
    run_id = accepted.json()["run_id"]
    for _ in range(100):
        if httpx.get(f"{background_url}/sessions/B2/runs").status_code == 200:
            break
        import time

        time.sleep(0.05)
    resumed = sse_blocks(
        httpx.post(f"{background_url}/teams/research-team/runs/{run_id}/resume", data={"session_id": "B2"}).text
    )
    real_meta = sse_blocks(capture("b6_resume_nonstream")["body"])[0][1]
    assert resumed == [("replay", {**real_meta, "run_id": run_id})]


def test_resuming_an_unknown_run_is_one_error_frame(background_url: str) -> None:
    response = httpx.post(f"{background_url}/teams/research-team/runs/nope/resume", data={"session_id": "B2"})
    assert response.text == capture("b7_resume_unknown")["body"]


# -- 4. tool calls one after another: one model request each ---------------------------------

SEQUENTIAL_TEAM = """\
version: 1
team:
  id: research-team
  name: Research Team
  model: {id: fake-model-1, provider: Fake}
  members:
    - {id: researcher, name: Researcher, role: Looks facts up with the lookup_fact tool}
    - {id: writer, name: Writer, role: Writes short answers}
scenarios:
  - name: twice
    gap: 0
    events:
      - delegate: researcher
        task: Look up France.
        events:
          - tool: lookup_fact
            args: {topic: France}
            result: '{"topic": "France", "fact": "The capital of France is Paris."}'
          - text: ["According to ", "lookup_fact, ", "Paris is ", "France's capital."]
      - delegate: writer
        task: Write it.
        events:
          - text: ["A short answer."]
      - text: ["Both members answered."]
"""


def without_content_runs(events: list[str]) -> list[str]:
    """The event names with each run of content deltas counted once (delta counts differ)."""
    out: list[str] = []
    for event in events:
        if not (event.endswith("Content") and out and out[-1] == event):
            out.append(event)
    return out


def test_calls_one_after_another_each_get_a_model_request(tmp_path: Path) -> None:
    from tests.conftest import parse_sse

    (tmp_path / "research-team.yaml").write_text(SEQUENTIAL_TEAM)
    with run_server(Settings(scenarios=tmp_path, speed=0)) as url:
        mock = parse_sse(httpx.post(url + "/teams/research-team/runs", data={"message": "twice"}).content)
    real = parse_sse(capture("p2_sequential_delegations")["body"].encode())
    assert without_content_runs([e for e, _ in mock]) == without_content_runs([e for e, _ in real])
