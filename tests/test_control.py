"""The /__mock/ control routes as a UI test uses them: journal, verify, reset, scenario choice, status.

Runs go to a real server (the plugin's `agentos_mock`, reset before each test), as a browser's
would; a few tests start their own server for a setting of their own.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.pytest_plugin import AgentOSMock
from mockserver.settings import Settings
from tests.conftest import SHIPPED, parse_sse, run_server, serve_app

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
INLINE_TEAM = """\
version: 1
team:
  id: inline-team
  name: Inline Team
scenarios:
  - name: first
    events:
      - text: first answer
  - name: second
    events:
      - text: second answer
"""


@pytest.fixture
def client(agentos_mock: AgentOSMock) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=agentos_mock.url, timeout=10) as client:
        yield client


def run(
    client: httpx.Client, team: str, message: str, *, headers: dict[str, str] | None = None, **form: Any
) -> httpx.Response:
    return client.post(f"/teams/{team}/runs", data={"message": message, **form}, headers=headers)


def texts(response: httpx.Response) -> str:
    return "".join(d.get("content", "") for e, d in parse_sse(response.content) if e == "TeamRunContent")


def test_a_multipart_run_is_journaled_with_its_fields_files_scenario_and_frames(
    client: httpx.Client, agentos_mock: AgentOSMock
) -> None:
    response = client.post(
        "/teams/quick-team/runs",
        data={"message": "Hello", "session_id": "s-1", "user_id": "u-1", "monitor": "false", "color": "blue"},
        files=[("files", ("pixel.png", PNG, "image/png"))],
        headers={"Authorization": "Bearer secret-token"},
    )
    assert response.status_code == 200
    [entry] = agentos_mock.requests()
    assert entry["method"] == "POST" and entry["path"] == "/teams/quick-team/runs" and entry["status"] == 200
    assert (entry["team_id"], entry["message"], entry["session_id"], entry["user_id"]) == (
        "quick-team",
        "Hello",
        "s-1",
        "u-1",
    )
    assert entry["fields"] == {
        "message": "Hello",
        "session_id": "s-1",
        "user_id": "u-1",
        "monitor": "false",
        "color": "blue",
    }
    assert entry["files"] == [
        {
            "field": "files",
            "name": "pixel.png",
            "content_type": "image/png",
            "size": len(PNG),
            "sha256": hashlib.sha256(PNG).hexdigest(),
            "category": "image",
        }
    ]
    assert entry["headers"]["authorization"] == "[redacted]"
    assert entry["scenario"] == "reply" and entry["scenario_where"].endswith("quick-team.yaml:12")
    sent = [event for event, _ in parse_sse(response.content)]
    assert entry["events"] == sent and entry["frames"] == len(sent)
    assert entry["ending"] == "completed" and entry["fault"] is None
    assert entry["run_id"] == parse_sse(response.content)[0][1]["run_id"]
    assert entry["duration_ms"] >= 0 and entry["time"].endswith("Z")
    assert agentos_mock.call("GET", f"/__mock/requests/{entry['id']}") == (200, entry)


def test_every_agentos_route_is_journaled_but_not_the_control_routes(
    client: httpx.Client, agentos_mock: AgentOSMock
) -> None:
    client.get("/health")
    client.get("/sessions/nope")
    run(client, "no-such-team", "hi")
    client.post("/teams/quick-team/runs", data={})
    agentos_mock.status()
    entries = agentos_mock.requests()
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("GET", "/health", 200),
        ("GET", "/sessions/nope", 404),
        ("POST", "/teams/no-such-team/runs", 404),
        ("POST", "/teams/quick-team/runs", 422),
    ]
    assert entries[2]["team_id"] == "no-such-team" and entries[2]["message"] == "hi" and entries[2]["ending"] is None


@pytest.mark.parametrize(
    ("team", "status", "fault", "ending"),
    [
        ("error-500", 500, "status", "refused"),
        ("error-midstream", 200, "error", "error"),
        ("error-drop", 200, "drop", "dropped"),
        ("error-cancelled", 200, "cancel", "cancelled"),
    ],
)
def test_a_faulted_run_is_journaled_with_its_fault_and_how_it_ended(
    agentos_mock: AgentOSMock, team: str, status: int, fault: str, ending: str
) -> None:
    with httpx.Client(base_url=agentos_mock.url, timeout=10) as client:
        try:
            run(client, team, "hi")
        except httpx.HTTPError:
            assert ending == "dropped"
    [entry] = agentos_mock.requests()
    assert (entry["status"], entry["fault"], entry["ending"]) == (status, fault, ending)
    if status == 200:
        assert entry["events"][0] == "TeamRunStarted" and entry["frames"] == len(entry["events"]) >= 1


@pytest.mark.parametrize(
    ("team", "status", "ending"), [("error-slow", None, "disconnected"), ("error-stall", 200, "stalled")]
)
def test_a_run_the_client_gave_up_on_is_journaled_once_it_is_over(
    agentos_mock: AgentOSMock, team: str, status: int | None, ending: str
) -> None:
    with pytest.raises(httpx.ReadTimeout), httpx.Client(base_url=agentos_mock.url, timeout=0.5) as client:
        run(client, team, "hi")
    deadline = time.monotonic() + 5
    while not agentos_mock.requests() and time.monotonic() < deadline:
        time.sleep(0.05)
    [entry] = agentos_mock.requests()
    assert (entry["status"], entry["ending"]) == (status, ending)


def test_journal_filters_and_their_bad_values(client: httpx.Client, agentos_mock: AgentOSMock) -> None:
    run(client, "quick-team", "first question", session_id="a", user_id="ann")
    run(client, "topic-team", "what is the weather", session_id="b")
    run(client, "quick-team", "second question", session_id="a", user_id="ann")
    assert [e["message"] for e in agentos_mock.requests(team_id="quick-team")] == ["first question", "second question"]
    assert [e["message"] for e in agentos_mock.requests(session_id="b")] == ["what is the weather"]
    assert [e["message"] for e in agentos_mock.requests(message="^(first|what)")] == [
        "first question",
        "what is the weather",
    ]
    assert len(agentos_mock.requests(user_id="ann", path="/teams/quick-team/runs")) == 2
    first = agentos_mock.requests()[0]
    assert [e["message"] for e in agentos_mock.requests(since=first["id"])] == [
        "what is the weather",
        "second question",
    ]
    assert len(agentos_mock.requests(since=first["time"])) == 3
    assert [e["message"] for e in agentos_mock.requests(limit=1)] == ["second question"]
    for query, wording in [
        ("message=(", "message: bad regular expression '('"),
        ("limit=-1", "limit: expected a whole number >= 0"),
        ("since=yesterday", "since: expected an entry id or an ISO time"),
        ("colour=red", "unknown filter 'colour'"),
    ]:
        status, body = agentos_mock.call("GET", f"/__mock/requests?{query}")
        assert status == 400 and wording in body["detail"] and body["error_code"] == "BAD_REQUEST", query
    assert agentos_mock.call("GET", "/__mock/requests/999999")[0] == 404
    assert agentos_mock.call("DELETE", "/__mock/requests") == (200, {"deleted": 3})
    assert agentos_mock.requests() == []


def test_the_journal_keeps_only_the_newest_entries() -> None:
    with run_server(Settings(scenarios=SHIPPED, speed=0, journal_size=3)) as url:
        for n in range(5):
            httpx.get(f"{url}/health?n={n}")
        entries = httpx.get(f"{url}/__mock/requests").json()
    assert [e["query"] for e in entries] == ["n=2", "n=3", "n=4"]
    assert [e["id"] for e in entries] == [3, 4, 5]


def test_verify_answers_the_matches_when_the_count_holds(client: httpx.Client, agentos_mock: AgentOSMock) -> None:
    run(client, "quick-team", "Hello", session_id="s")
    client.post(
        "/teams/quick-team/runs", data={"message": "with a file"}, files=[("files", ("a.png", PNG, "image/png"))]
    )
    status, body = agentos_mock.call(
        "POST", "/__mock/verify", {"match": {"team_id": "quick-team", "message": "Hello"}, "count": {"exactly": 1}}
    )
    assert status == 200 and body["matched"] == 1 and body["requests"][0]["session_id"] == "s"
    assert len(agentos_mock.verify({"message": {"contains": "ell"}})) == 1
    assert len(agentos_mock.verify({"message": {"regex": "^(Hello|with)"}}, exactly=2)) == 2
    assert len(agentos_mock.verify({"file": "a.png"}, exactly=1)) == 1
    assert len(agentos_mock.verify({"file": {"content_type": "image/png", "category": "image"}})) == 1
    assert len(agentos_mock.verify({"fields": {"session_id": "s"}, "status": 200, "scenario": "reply"})) == 1
    assert agentos_mock.verify({"team_id": "topic-team"}, at_most=0) == []


def test_a_failed_verify_names_the_nearest_miss_field_by_field(client: httpx.Client, agentos_mock: AgentOSMock) -> None:
    run(client, "quick-team", "hello", session_id="s-1")
    run(client, "topic-team", "something else")
    status, body = agentos_mock.call(
        "POST", "/__mock/verify", {"match": {"team_id": "quick-team", "message": "Hello", "session_id": "s-2"}}
    )
    assert status == 409 and body["error_code"] == "VERIFICATION_FAILED" and body["matched"] == 0
    nearest = body["near_misses"][0]
    assert nearest["request"]["team_id"] == "quick-team"
    assert nearest["differences"] == ["session_id: 's-1' is not 's-2'", "message: 'hello' is not 'Hello'"]
    assert "nearest miss" in body["detail"] and "message: 'hello' is not 'Hello'" in body["detail"]
    with pytest.raises(AssertionError, match=r"does not contain 'Bye'"):
        agentos_mock.verify({"message": {"contains": "Bye"}})
    with pytest.raises(AssertionError, match=r"files: none sent, expected one with name 'a.png'"):
        agentos_mock.verify({"file": "a.png", "team_id": "quick-team"})
    with pytest.raises(AssertionError, match=r"expected exactly 1 matching request\(s\), found 2"):
        agentos_mock.verify({}, exactly=1)


@pytest.mark.parametrize(
    ("body", "wording"),
    [
        ({"match": {"message": {"regex": "(unclosed"}}}, "match.message.regex: bad regular expression '(unclosed'"),
        ({"match": {"message": {"like": "x"}}}, "match.message: expected a string (exact text)"),
        ({"match": {"team": "quick-team"}}, "match: unknown key 'team'"),
        ({"match": {"status": "200"}}, "match.status: expected an HTTP status as a number"),
        ({"count": {"exactly": -1}}, "count.exactly: expected a whole number >= 0"),
        ({"count": {"exactly": "1"}}, "count.exactly: expected a whole number >= 0"),
        ({"count": {"exactly": 1, "at_least": 1}}, "exactly cannot be combined"),
        ({"count": {"at_least": 3, "at_most": 1}}, "at_least 3 is more than at_most 1"),
        ({"count": {"between": 1}}, "count: unknown key 'between'"),
        ({"matches": {}}, 'expected {"match"'),
    ],
)
def test_bad_verify_input_is_a_400_naming_the_problem(agentos_mock: AgentOSMock, body: Any, wording: str) -> None:
    status, answer = agentos_mock.call("POST", "/__mock/verify", body)
    assert status == 400 and wording in answer["detail"], answer


def test_reset_clears_the_journal_sessions_counters_and_overrides(
    client: httpx.Client, agentos_mock: AgentOSMock
) -> None:
    assert [run(client, "error-flaky", "hi", stream="false").status_code for _ in range(3)] == [503, 503, 200]
    run(client, "quick-team", "hi", session_id="kept", stream="false")
    agentos_mock.use_scenario("topic-team", "code")
    agentos_mock.add_scenarios(INLINE_TEAM)
    assert client.get("/sessions/kept").status_code == 200
    assert agentos_mock.call("POST", "/__mock/reset", {"only": ["counters"]}) == (
        200,
        {"namespace": "", "cleared": ["counters"]},
    )
    assert run(client, "error-flaky", "hi", stream="false").status_code == 503
    assert len(agentos_mock.requests()) == 6 and client.get("/sessions/kept").status_code == 200
    agentos_mock.reset()
    assert agentos_mock.requests() == []
    assert client.get("/sessions/kept").status_code == 404
    assert run(client, "error-flaky", "hi", stream="false").status_code == 503
    assert run(client, "topic-team", "weather please").status_code == 200
    assert agentos_mock.requests()[-1]["scenario"] == "weather"
    assert run(client, "inline-team", "hi").status_code == 404


@pytest.mark.parametrize("body", [{"only": ["journal", "everything"]}, {"only": []}, {"all": True}, [1]])
def test_a_bad_reset_is_a_400_and_clears_nothing(client: httpx.Client, agentos_mock: AgentOSMock, body: Any) -> None:
    client.get("/health")
    status, answer = agentos_mock.call("POST", "/__mock/reset", body)
    assert status == 400 and "journal, sessions, counters, overrides, scenarios" in answer["detail"]
    assert len(agentos_mock.requests()) == 1


def test_x_mock_scenario_picks_a_scenario_by_name(client: httpx.Client, agentos_mock: AgentOSMock) -> None:
    response = run(client, "topic-team", "what is the weather", headers={"X-Mock-Scenario": "code"})
    assert response.status_code == 200 and agentos_mock.requests()[-1]["scenario"] == "code"
    unknown = run(client, "topic-team", "hi", headers={"X-Mock-Scenario": "nope"})
    assert unknown.status_code == 400
    assert (
        unknown.json()["detail"]
        == "X-Mock-Scenario: team 'topic-team' has no scenario 'nope'; its scenarios are weather, code, chat"
    )
    assert agentos_mock.requests()[-1]["status"] == 400


def test_an_override_plays_a_scenario_for_n_runs_then_the_match_again(
    client: httpx.Client, agentos_mock: AgentOSMock
) -> None:
    agentos_mock.use_scenario("topic-team", "code", times=2)
    for _ in range(3):
        run(client, "topic-team", "what is the weather")
    assert [e["scenario"] for e in agentos_mock.requests()] == ["code", "code", "weather"]


def test_an_override_sequence_plays_in_turn_and_repeats_its_last(
    client: httpx.Client, agentos_mock: AgentOSMock
) -> None:
    agentos_mock.use_scenario("topic-team", sequence=["chat", "code", "weather"])
    for _ in range(5):
        run(client, "topic-team", "hi")
    assert [e["scenario"] for e in agentos_mock.requests()] == ["chat", "code", "weather", "weather", "weather"]
    assert agentos_mock.call("DELETE", "/__mock/teams/topic-team/scenario")[1]["removed"] is True
    run(client, "topic-team", "hi")
    assert agentos_mock.requests()[-1]["scenario"] == "chat"


@pytest.mark.parametrize(
    ("body", "status", "wording"),
    [
        ({"name": "nope"}, 400, "team 'topic-team' has no scenario 'nope'; its scenarios are weather, code, chat"),
        ({"sequence": ["code", "nope"]}, 400, "no scenario 'nope'"),
        ({"sequence": []}, 400, "sequence: expected a non-empty list"),
        ({"name": "code", "times": 0}, 400, "times: expected a whole number >= 1"),
        ({"name": "code", "sequence": ["code"]}, 400, 'either "name"'),
        ({"sequence": ["code"], "times": 2}, 400, '"times" goes with "name"'),
        ({"nmae": "code"}, 400, "unknown key 'nmae'"),
    ],
)
def test_a_bad_override_is_refused_and_the_previous_one_stays(
    client: httpx.Client, agentos_mock: AgentOSMock, body: Any, status: int, wording: str
) -> None:
    agentos_mock.use_scenario("topic-team", "code")
    answer = agentos_mock.call("PUT", "/__mock/teams/topic-team/scenario", body)
    assert answer[0] == status and wording in answer[1]["detail"], answer
    run(client, "topic-team", "weather")
    assert agentos_mock.requests()[-1]["scenario"] == "code"


def test_an_override_for_an_unknown_team_is_a_404_listing_the_teams(agentos_mock: AgentOSMock) -> None:
    status, body = agentos_mock.call("PUT", "/__mock/teams/nobody/scenario", {"name": "x"})
    assert status == 404 and "no team 'nobody'; teams are" in body["detail"] and "quick-team" in body["detail"]


def test_a_team_yaml_sequence_plays_in_turn_per_namespace(agentos_mock: AgentOSMock) -> None:
    story = INLINE_TEAM + "sequence: [second, first]\n"
    seen = {}
    for space in ("a", "b"):
        view = agentos_mock.in_namespace(space)
        view.reset()
        view.add_scenarios(story)
        with httpx.Client(base_url=agentos_mock.url, headers={"X-Mock-Namespace": space}, timeout=10) as client:
            answers = [texts(run(client, "inline-team", "hi")) for _ in range(3)]
            picked = run(client, "inline-team", "hi", headers={"X-Mock-Scenario": "second"})
        seen[space] = [e["scenario"] for e in view.requests()]
        assert answers == ["second answer", "first answer", "first answer"]
        assert "second answer" in texts(picked)
        view.reset("counters")
        with httpx.Client(base_url=agentos_mock.url, headers={"X-Mock-Namespace": space}, timeout=10) as client:
            assert texts(run(client, "inline-team", "hi")) == "second answer", "reset starts the sequence again"
        view.reset()
    assert seen == {space: ["second", "first", "first", "second"] for space in ("a", "b")}


def test_posted_yaml_adds_a_team_until_reset(client: httpx.Client, agentos_mock: AgentOSMock) -> None:
    assert agentos_mock.call("POST", "/__mock/scenarios", text=INLINE_TEAM) == (
        201,
        {"team_id": "inline-team", "scenarios": ["first", "second"], "replaced": False},
    )
    assert "first answer" in texts(run(client, "inline-team", "hi"))
    assert "second answer" in texts(run(client, "inline-team", "hi", headers={"X-Mock-Scenario": "second"}))
    assert "inline-team" in [t["id"] for t in client.get("/teams").json()]
    assert client.get("/teams/inline-team").json()["name"] == "Inline Team"
    assert agentos_mock.requests()[0]["scenario_where"] == "POST /__mock/scenarios:6"
    replaced = INLINE_TEAM.replace("first answer", "replaced answer")
    assert agentos_mock.call("POST", "/__mock/scenarios", text=replaced)[0] == 200
    assert "replaced answer" in texts(run(client, "inline-team", "hi"))
    agentos_mock.reset()
    assert run(client, "inline-team", "hi").status_code == 404


def test_posted_yaml_can_replace_a_shipped_team_in_one_namespace_only(
    client: httpx.Client, agentos_mock: AgentOSMock
) -> None:
    other = agentos_mock.in_namespace("replacer")
    other.reset()
    other.add_scenarios(INLINE_TEAM.replace("inline-team", "quick-team"))
    mine = run(client, "quick-team", "hi", headers={"X-Mock-Namespace": "replacer"})
    assert "first answer" in texts(mine)
    assert "quick reply" in texts(run(client, "quick-team", "hi"))
    other.reset()


@pytest.mark.parametrize(
    ("text", "wording"),
    [
        ("version: 1\nteam: [unclosed\n", "POST /__mock/scenarios:"),
        (INLINE_TEAM.replace("      - text: first answer", "      - txt: first answer"), "POST /__mock/scenarios:8:"),
        ("", "POST /__mock/scenarios:"),
    ],
)
def test_bad_posted_yaml_is_a_400_with_file_line_problems_and_adds_nothing(
    client: httpx.Client, agentos_mock: AgentOSMock, text: str, wording: str
) -> None:
    status, body = agentos_mock.call("POST", "/__mock/scenarios", text=text)
    assert status == 400 and body["error_code"] == "BAD_REQUEST", body
    assert body["problems"] and all(p.startswith("POST /__mock/scenarios:") for p in body["problems"])
    assert wording in body["detail"]
    assert run(client, "inline-team", "hi").status_code == 404
    assert agentos_mock.status()["added_teams"] == []


def test_four_namespaces_at_once_keep_their_own_counters_journals_and_sessions(agentos_mock: AgentOSMock) -> None:
    workers = [f"worker-{n}" for n in range(4)]
    statuses: dict[str, list[int]] = {}
    barrier = threading.Barrier(len(workers))

    def worker(space: str) -> None:
        headers = {"X-Mock-Namespace": space}
        with httpx.Client(base_url=agentos_mock.url, headers=headers, timeout=10) as client:
            client.post("/__mock/reset")
            barrier.wait()
            statuses[space] = [
                run(client, "error-flaky", f"try {n} from {space}", session_id=space, stream="false").status_code
                for n in range(3)
            ]

    threads = [threading.Thread(target=worker, args=(space,)) for space in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert statuses == {space: [503, 503, 200] for space in workers}
    for space in workers:
        view = agentos_mock.in_namespace(space)
        entries = view.requests()
        assert [e["message"] for e in entries] == [f"try {n} from {space}" for n in range(3)]
        assert {e["namespace"] for e in entries} == {space}
        status, sessions = view.call("GET", "/sessions")
        assert status == 200 and [s["session_id"] for s in sessions["data"]] == [space]
        view.reset()
    assert agentos_mock.requests() == []


def test_a_bad_namespace_is_a_400(client: httpx.Client) -> None:
    response = client.get("/health", headers={"X-Mock-Namespace": "no spaces allowed"})
    assert response.status_code == 400 and "X-Mock-Namespace" in response.json()["detail"]


def test_the_control_query_namespace_is_the_header_s_equal(client: httpx.Client, agentos_mock: AgentOSMock) -> None:
    client.get("/health", headers={"X-Mock-Namespace": "q"})
    assert len(client.get("/__mock/requests?namespace=q").json()) == 1
    assert client.post("/__mock/reset?namespace=q").status_code == 200
    assert client.get("/__mock/requests?namespace=q").json() == []


def test_the_live_journal_streams_each_new_entry(agentos_mock: AgentOSMock) -> None:
    with (
        httpx.Client(base_url=agentos_mock.url, timeout=10) as client,
        client.stream("GET", "/__mock/requests/stream?team_id=quick-team") as stream,
    ):
        assert stream.headers["content-type"] == "text/event-stream"
        client.get("/health")
        run(client, "quick-team", "live one", stream="false")
        lines = stream.iter_lines()
        assert next(lines) == "event: request"
        entry = json.loads(next(lines).removeprefix("data: "))
    assert entry["message"] == "live one" and entry["team_id"] == "quick-team"


def test_status_shows_the_folder_teams_and_counts(client: httpx.Client, agentos_mock: AgentOSMock) -> None:
    client.get("/health")
    status = agentos_mock.status()
    assert [Path(folder) for folder in status["scenarios"]] == [SHIPPED]
    assert len(status["files"]) == len(list(SHIPPED.glob("*.yaml")))
    quick = next(t for t in status["teams"] if t["id"] == "quick-team")
    assert quick == {"id": "quick-team", "file": str(SHIPPED / "quick-team.yaml"), "scenarios": ["reply"], "faults": 0}
    assert status["journal"] == {"entries": 1, "size": 1000} and status["live_runs"] == 0
    assert status["reload"] == {"enabled": False, "last": None}


def test_a_failed_reload_shows_in_status_with_file_line_problems(tmp_path: Path) -> None:
    import asyncio

    from mockserver.app import create_app
    from mockserver.scenarios.reload import reload_once

    (tmp_path / "quick-team.yaml").write_text((SHIPPED / "quick-team.yaml").read_text())
    app = create_app(Settings(scenarios=tmp_path, speed=0))
    state = app.state.mock
    (tmp_path / "broken.yaml").write_text("version: 1\nteam:\n  id: broken\n")
    assert asyncio.run(reload_once(state)) is False
    assert state.last_reload.ok is False
    assert state.last_reload.problems and all(
        p.startswith(str(tmp_path / "broken.yaml") + ":") for p in state.last_reload.problems
    )
    with serve_app(app) as (url, _):
        last = httpx.get(f"{url}/__mock/status").json()["reload"]["last"]
        assert last["ok"] is False and last["problems"] == list(state.last_reload.problems)
        assert list(httpx.get(f"{url}/health").json()) == ["status", "instantiated_at"]


def test_control_routes_take_the_security_key_or_their_own() -> None:
    with run_server(Settings(scenarios=SHIPPED, speed=0, security_key="os-key")) as url:
        assert httpx.get(f"{url}/__mock/status").status_code == 401
        assert httpx.get(f"{url}/__mock/status", headers={"Authorization": "Bearer os-key"}).status_code == 200
    with run_server(Settings(scenarios=SHIPPED, speed=0, security_key="os-key", control_key="ctl-key")) as url:
        assert httpx.get(f"{url}/__mock/status", headers={"Authorization": "Bearer os-key"}).status_code == 401
        assert httpx.get(f"{url}/__mock/status", headers={"Authorization": "Bearer ctl-key"}).status_code == 200
        assert httpx.get(f"{url}/teams", headers={"Authorization": "Bearer ctl-key"}).status_code == 401
        assert httpx.get(f"{url}/teams", headers={"Authorization": "Bearer os-key"}).status_code == 200
    with run_server(Settings(scenarios=SHIPPED, speed=0, control_key="ctl-key")) as url:
        assert httpx.get(f"{url}/teams").status_code == 200
        assert httpx.get(f"{url}/__mock/requests").status_code == 401


def test_the_control_options_come_from_flags_or_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    from mockserver.cli import build_parser, settings_from

    def settings(*argv: str) -> Settings:
        return settings_from(build_parser().parse_args(["serve", *argv]))

    chosen = settings()
    assert (chosen.journal_size, chosen.max_namespaces, chosen.control_key) == (1000, 100, None)
    monkeypatch.setenv("MOCKSERVER_JOURNAL_SIZE", "50")
    monkeypatch.setenv("MOCKSERVER_MAX_NAMESPACES", "8")
    monkeypatch.setenv("MOCKSERVER_CONTROL_KEY", "ctl")
    chosen = settings("--journal-size", "7")
    assert (chosen.journal_size, chosen.max_namespaces, chosen.control_key) == (7, 8, "ctl")
    with pytest.raises(SystemExit):
        settings("--journal-size", "0")


def test_namespaces_past_the_limit_go_least_recently_used_first_never_the_default() -> None:
    from mockserver.app import create_app

    state = create_app(Settings(scenarios=SHIPPED, max_namespaces=2)).state.mock
    state.space().journal.add({"path": "/health"})
    a = state.space("a")
    state.space("b")
    assert state.space("a") is a
    state.space("c")
    assert list(state.spaces) == ["", "a", "c"]
    assert len(state.space().journal) == 1


def test_an_open_live_journal_ends_cleanly_when_the_server_stops() -> None:
    from mockserver.pytest_plugin import serving

    body: list[bytes] = []
    opened = threading.Event()

    def watch(url: str) -> None:
        with httpx.stream("GET", f"{url}/__mock/requests/stream", timeout=10) as response:
            opened.set()
            body.extend(response.iter_raw())

    with serving(Settings(scenarios=SHIPPED, speed=0, reload=False)) as url:
        watcher = threading.Thread(target=watch, args=(url,))
        watcher.start()
        assert opened.wait(5)
        httpx.get(f"{url}/health")
        time.sleep(0.2)
        stopping = time.monotonic()
    watcher.join(5)
    assert not watcher.is_alive() and time.monotonic() - stopping < 0.9, "the stream did not hold up the shutdown"
    assert b"".join(body).startswith(b"event: request\ndata: ") and b'"path":"/health"' in b"".join(body)


def test_a_control_body_past_the_upload_limit_is_a_413_and_changes_nothing() -> None:
    with run_server(Settings(scenarios=SHIPPED, speed=0, max_upload_size=1024)) as url:
        big = INLINE_TEAM + "#" * 2000 + "\n"
        response = httpx.post(f"{url}/__mock/scenarios", content=big)
        assert response.status_code == 413 and "--max-upload-size" in response.json()["detail"]
        assert httpx.post(f"{url}/__mock/verify", content=b" " * 2000).status_code == 413
        assert httpx.get(f"{url}/__mock/status").json()["added_teams"] == []


def _run_in(client: httpx.Client, state: Any, space: str, message: str) -> None:
    """A quick-team run in `space`, returning once its journal entry (made after its session record) is in."""
    journal = state.space(space).journal
    before = journal.added
    response = client.post(
        "/teams/quick-team/runs",
        data={"message": message, "stream": "false"},
        headers={"X-Mock-Namespace": space},
    )
    assert response.status_code == 200, response.text
    deadline = time.monotonic() + 5
    while journal.added == before:
        assert time.monotonic() < deadline, "the journal entry never came"
        time.sleep(0.005)


@contextmanager
def _spaces_app(**limits: int) -> Iterator[tuple[httpx.Client, Any]]:
    """A real server with these limits, its client and its app state."""
    from mockserver.app import create_app

    app = create_app(Settings(scenarios=SHIPPED, speed=0, reload=False, **limits))
    with serve_app(app) as (url, _), httpx.Client(base_url=url, timeout=10) as client:
        yield client, app.state.mock


def _one_run_costs(message: str) -> tuple[int, int]:
    """(journal bytes, session bytes) of one quick-team run of `message`, as the server counts them."""
    with _spaces_app() as (client, state):
        _run_in(client, state, "probe", message)
        return state.space("probe").journal.weight, state.space("probe").sessions.weight


def test_the_journals_of_all_namespaces_stay_within_their_bytes_least_recently_used_first() -> None:
    message = "m" * 100_000
    one, _ = _one_run_costs(message)
    assert one > len(message)
    with _spaces_app(max_journal_bytes=int(2.5 * one)) as (client, state):
        for space in ("a", "b", "c"):
            _run_in(client, state, space, message)
        assert [len(state.spaces[name].journal) for name in ("a", "b", "c")] == [0, 1, 1]
        for _ in range(2):
            _run_in(client, state, "c", message)
        assert [len(state.spaces[name].journal) for name in ("b", "c")] == [0, 2]
        assert sum(space.journal.weight for space in state.spaces.values()) <= 2.5 * one
        _run_in(client, state, "d", "m" * 400_000)  # bigger than the whole budget: the newest entry is kept anyway
        assert len(state.spaces["d"].journal) == 1 and len(state.spaces["c"].journal) == 0


def test_the_sessions_of_all_namespaces_stay_within_max_store_size_least_recently_used_first() -> None:
    message = "m" * 50_000
    _, one = _one_run_costs(message)
    assert one > 0
    with _spaces_app(max_store_size=int(2.5 * one)) as (client, state):
        for space in ("a", "b", "c"):
            _run_in(client, state, space, message)
        assert [len(state.spaces[name].sessions) for name in ("a", "b", "c")] == [0, 1, 1]
        listed = client.get("/sessions", params={"type": "team"}, headers={"X-Mock-Namespace": "a"})
        assert listed.status_code == 200 and listed.json()["data"] == []
        assert sum(space.sessions.weight for space in state.spaces.values()) <= 2.5 * one


def test_teams_added_past_max_added_size_are_a_413_for_all_namespaces_together() -> None:
    def team(number: int) -> str:
        return INLINE_TEAM.replace("id: inline-team", f"id: added-{number}")

    size = len(team(1).encode())
    with _spaces_app(max_added_size=3 * size) as (client, state):

        def add(space: str, number: int) -> httpx.Response:
            return client.post("/__mock/scenarios", content=team(number), headers={"X-Mock-Namespace": space})

        assert [add(space, n).status_code for n, space in enumerate(("a", "b", "c"), 1)] == [201, 201, 201]
        refused = add("d", 4)
        assert refused.status_code == 413 and "--max-added-size" in refused.json()["detail"]
        assert "added-4" not in state.teams(state.spaces["d"])
        assert add("c", 3).status_code == 200  # the same team again replaces itself: no more room needed
        reset = client.post("/__mock/reset", json={"only": ["scenarios"]}, headers={"X-Mock-Namespace": "a"})
        assert reset.status_code == 200
        assert add("d", 4).status_code == 201
