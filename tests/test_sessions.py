"""Sessions: recorded when a run ends, listed, reloaded, renamed, deleted, scoped by user, bounded."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Iterator

import httpx
import pytest

from mockserver.http.discovery import DB_ID
from mockserver.settings import Settings
from tests.conftest import SHIPPED, capture_json, parse_sse, run_server, serve_app
from tests.slow_team import count, reading, write_slow_team


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("scenarios")
    for source in SHIPPED.glob("*.yaml"):
        (directory / source.name).write_text(source.read_text())
    write_slow_team(directory)
    with run_server(Settings(scenarios=directory, speed=0)) as url:
        yield url


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    """One client for the module: a new httpx client per call costs ~50 ms (its SSL context)."""
    with httpx.Client(timeout=10) as client:
        yield client


def run(http: httpx.Client, url: str, team: str = "research-team", **fields: str) -> list[tuple[str, dict]]:
    response = http.post(f"{url}/teams/{team}/runs", data={"message": "hello", **fields})
    assert response.status_code == 200, response.text
    return parse_sse(response.content)


def test_runs_of_one_session_are_listed_in_order_with_member_runs(http: httpx.Client, url: str) -> None:
    first = run(http, url, message="first question", session_id="", user_id="ada")
    session_id = first[0][1]["session_id"]
    second = run(http, url, message="second question", session_id=session_id, user_id="ada")
    assert second[0][1]["session_id"] == session_id and second[0][1]["run_id"] != first[0][1]["run_id"]

    runs = http.get(f"{url}/sessions/{session_id}/runs", params={"type": "team", "db_id": DB_ID}).json()
    team_runs = [r for r in runs if "team_id" in r]
    assert [r["run_input"] for r in team_runs] == ["first question", "second question"]
    assert [r["run_id"] for r in team_runs] == [first[0][1]["run_id"], second[0][1]["run_id"]]
    assert [r["content"] for r in team_runs] == [first[-1][1]["content"], second[-1][1]["content"]]
    assert all(r["status"] == "COMPLETED" and r["user_id"] == "ada" for r in team_runs)
    members = [r for r in runs if "agent_id" in r]
    assert [r["agent_id"] for r in members] == ["researcher", "writer"] * 2
    assert all(r["parent_run_id"] in {t["run_id"] for t in team_runs} for r in members)
    assert runs.index(members[0]) < runs.index(team_runs[0]), "member runs come before their team run"

    captured = capture_json("j7_session_runs")[0]
    assert [k for k in team_runs[0] if k != "tools"] == list(captured)
    assert "TeamRunContent" not in {e["event"] for e in team_runs[0]["events"]}
    assert team_runs[0]["events"][-1] == first[-1][1]


def test_the_session_is_listed_and_reloadable_with_captured_shapes(http: httpx.Client, url: str) -> None:
    frames = run(http, url, team="quick-team", message="name me", session_id="", user_id="bob")
    session_id = frames[0][1]["session_id"]
    listing = http.get(f"{url}/sessions", params={"type": "team", "component_id": "quick-team"}).json()
    captured = capture_json("j6_sessions")
    assert list(listing) == ["data", "meta"] and list(listing["meta"]) == list(captured["meta"])
    entry = next(s for s in listing["data"] if s["session_id"] == session_id)
    with_user = next(s for s in captured["data"] if "user_id" in s)
    assert list(entry) == list(with_user)
    assert (entry["session_name"], entry["user_id"], entry["team_id"], entry["session_type"]) == (
        "name me",
        "bob",
        "quick-team",
        "team",
    )

    detail = http.get(f"{url}/sessions/{session_id}", params={"type": "team"}).json()
    assert list(detail) == list(capture_json("j8_session"))
    assert [(m["role"], m["content"]) for m in detail["chat_history"]] == [
        ("user", "name me"),
        ("assistant", frames[-1][1]["content"]),
    ]
    assert detail["team_data"]["team_id"] == "quick-team"


def test_listing_filters_sorts_and_pages(http: httpx.Client, url: str) -> None:
    ids = [
        run(http, url, team="topic-team", message=f"chat {i}", session_id="", user_id="pager")[0][1]["session_id"]
        for i in range(3)
    ]
    page = http.get(f"{url}/sessions", params={"user_id": "pager", "limit": 2, "page": 1}).json()
    assert [s["session_id"] for s in page["data"]] == ids[::-1][:2]
    assert page["meta"] | {"search_time_ms": 0} == {
        "page": 1,
        "limit": 2,
        "total_pages": 2,
        "total_count": 3,
        "search_time_ms": 0,
    }
    last = http.get(f"{url}/sessions", params={"user_id": "pager", "limit": 2, "page": 2, "sort_order": "asc"}).json()
    assert [s["session_id"] for s in last["data"]] == ids[2:]
    derived = http.get(f"{url}/sessions", params={"user_id": "pager", "session_name": "chat"}).json()
    assert derived["data"] == [], "as on AgentOS, a name derived from the first message is not searched"
    http.post(f"{url}/sessions/{ids[1]}/rename", json={"session_name": "Chat about pages"})
    named = http.get(f"{url}/sessions", params={"user_id": "pager", "session_name": "CHAT ABOUT"}).json()
    assert [s["session_id"] for s in named["data"]] == [ids[1]]
    assert http.get(f"{url}/sessions", params={"type": "agent", "user_id": "pager"}).json()["data"] == []
    assert http.get(f"{url}/sessions", params={"component_id": "no-such-team"}).json()["meta"]["total_count"] == 0


def test_bad_query_parameters_are_422_listing_every_problem(http: httpx.Client, url: str) -> None:
    response = http.get(f"{url}/sessions", params={"type": "robot", "limit": "0", "sort_order": "up"})
    assert response.status_code == 422
    assert response.json()["error_code"] == "VALIDATION_ERROR"
    assert "type: Input should be 'agent', 'team' or 'workflow'" in response.json()["detail"]
    for name in ("limit", "sort_order"):
        assert name in response.json()["detail"]


def test_first_run_of_a_new_session_is_404_until_it_ends(http: httpx.Client, url: str) -> None:
    with reading(f"{url}/teams/slow-team/runs", {"message": "slow", "session_id": ""}, {"X-Mock-Speed": "1"}) as stream:
        stream.wait_for(count("TeamRunStarted"))
        session_id = stream.frames[0][1]["session_id"]
        during = http.get(f"{url}/sessions/{session_id}/runs", params={"type": "team"})
        run_id = stream.frames[0][1]["run_id"]
        http.post(f"{url}/teams/slow-team/runs/{run_id}/cancel")
        stream.finish()
    assert during.status_code == 404
    assert during.json()["detail"] == f"Session with ID {session_id} not found"
    after = http.get(f"{url}/sessions/{session_id}/runs", params={"type": "team"})
    assert after.status_code == 200 and len(after.json()) == 1


def test_another_users_session_is_not_found(http: httpx.Client, url: str) -> None:
    session_id = run(http, url, message="mine", session_id="owned-session", user_id="owner")[0][1]["session_id"]
    intruder = http.post(
        f"{url}/teams/research-team/runs",
        data={"message": "x", "stream": "false", "session_id": session_id, "user_id": "someone-else"},
    )
    assert intruder.status_code == 404 and intruder.json()["detail"] == "Session not found"
    assert http.get(f"{url}/sessions/{session_id}", params={"user_id": "someone-else"}).status_code == 404
    assert http.get(f"{url}/sessions/{session_id}", params={"user_id": "owner"}).status_code == 200
    form = {"message": "x", "stream": "false", "session_id": session_id}
    anonymous = http.post(f"{url}/teams/research-team/runs", data=form)
    assert anonymous.status_code == 404, "an owned session takes no run without its user_id (AgentOS 3.1.10)"


def test_rename_update_and_delete(http: httpx.Client, url: str) -> None:
    session_id = run(http, url, team="quick-team", message="old name", session_id="")[0][1]["session_id"]
    renamed = http.post(f"{url}/sessions/{session_id}/rename", json={"session_name": "new name"})
    assert renamed.status_code == 200 and renamed.json()["session_name"] == "new name"
    missing = http.post(f"{url}/sessions/{session_id}/rename", json={})
    assert missing.status_code == 422
    patched = http.patch(f"{url}/sessions/{session_id}", json={"session_state": {"step": 2}})
    assert patched.json()["session_state"] == {"step": 2}
    one = http.get(f"{url}/sessions/{session_id}/runs").json()[0]
    assert http.get(f"{url}/sessions/{session_id}/runs/{one['run_id']}").json() == one
    assert http.get(f"{url}/sessions/{session_id}/runs/nope").status_code == 404

    deleted = http.delete(f"{url}/sessions/{session_id}", params={"db_id": DB_ID})
    assert deleted.status_code == 204 and deleted.content == b""
    assert http.get(f"{url}/sessions/{session_id}/runs").status_code == 404
    assert http.get(f"{url}/sessions/{session_id}").json()["detail"] == f"Session with id '{session_id}' not found"

    ids = [run(http, url, team="quick-team", session_id="")[0][1]["session_id"] for _ in range(2)]
    bulk = http.request("DELETE", f"{url}/sessions", json={"session_ids": ids, "session_types": ["team", "team"]})
    assert bulk.status_code == 204
    assert all(http.get(f"{url}/sessions/{i}").status_code == 404 for i in ids)


def test_non_streamed_runs_are_recorded_without_events(http: httpx.Client, url: str) -> None:
    response = http.post(f"{url}/teams/quick-team/runs", data={"message": "json please", "stream": "false"})
    session_id = response.json()["session_id"]
    [record] = http.get(f"{url}/sessions/{session_id}/runs").json()
    assert record["content"] == response.json()["content"] and "events" not in record


def test_the_store_drops_the_least_recently_used_session_past_its_limit(http: httpx.Client) -> None:
    with run_server(Settings(scenarios=SHIPPED, speed=0, max_sessions=2)) as small:
        ids = [run(http, small, team="quick-team", session_id="")[0][1]["session_id"] for _ in range(3)]
        total = http.get(f"{small}/sessions").json()["meta"]["total_count"]
        assert total == 2
        assert http.get(f"{small}/sessions/{ids[0]}").status_code == 404
        assert http.get(f"{small}/sessions/{ids[2]}").status_code == 200


def test_runs_filter_by_status_and_time_and_previews_are_short(http: httpx.Client, url: str) -> None:
    session_id = run(http, url, message="x" * 400, session_id="")[0][1]["session_id"]
    runs_url = f"{url}/sessions/{session_id}/runs"
    assert len(http.get(runs_url, params={"status": "completed"}).json()) == 3  # two members and the team
    assert http.get(runs_url, params={"status": "ERROR"}).json() == []
    assert http.get(runs_url, params={"created_after": 4102444800}).json() == []  # 2100-01-01
    bad = http.get(runs_url, params={"status": "DONE"})
    assert bad.status_code == 400 and bad.json()["detail"].startswith("Invalid status value(s) ['DONE']")
    previews = http.get(f"{url}/sessions/{session_id}/run-previews").json()
    team = next(p for p in previews if p.get("team_id"))
    assert list(team) == ["run_id", "parent_run_id", "team_id", "status", "run_input", "content_preview", "created_at"]
    assert len(team["run_input"]) == 280


def test_runs_of_one_kept_plan_do_not_pile_up_on_it() -> None:
    """A plan every run hits stays kept for good; the stored runs it is to tell when it goes
    must leave it as they are dropped, or a long test suite grows without end."""
    from mockserver.app import create_app

    app = create_app(Settings(scenarios=SHIPPED, speed=0, reload=False, max_sessions=5, journal_size=10))
    with serve_app(app) as (url, _), httpx.Client(base_url=url, timeout=10) as client:

        def runs(start: int, count: int) -> None:
            for index in range(start, start + count):
                form = {"message": "hi", "stream": "false", "session_id": f"s{index}"}
                assert client.post("/teams/quick-team/runs", data=form).status_code == 200

        runs(0, 200)
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            runs(200, 800)
            gc.collect()
            growth = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
    assert len(app.state.mock.plans) == 1
    assert growth < 250_000, f"the heap grew {growth} bytes over 800 runs of one kept plan"
