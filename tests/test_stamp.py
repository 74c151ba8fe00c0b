"""A plan made once per request, stamped per run: every run still gets its own ids and times."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.agentos.expand import build_plan
from mockserver.app import create_app
from mockserver.run.plan import RunContext
from mockserver.run.stamp import OPEN, PREFIX, Stamp, ascii_json, created_at, drawn_id, iso_at, moment
from mockserver.scenarios.loader import load_directory, load_text
from mockserver.settings import Settings
from tests.conftest import parse_sse, run_server, serve_app

SHIPPED = Path(__file__).resolve().parent.parent / "scenarios"
TOKENS = """version: 1
team: {id: tokens, name: Tokens}
scenarios:
  - name: ids
    pace: 60 tokens/s
    events:
      - text: "run {{ run_id }} of session {{ session_id }}, ok"
"""


def _ids(frames: list[tuple[str, dict[str, Any]]]) -> set[str]:
    """The member run ids and message ids a run's frames carry."""
    found = {d["run_id"] for e, d in frames if "parent_run_id" in d}
    for _, data in frames:
        for response in data.get("member_responses") or []:
            found |= {m["id"] for m in response["messages"]}
    return found


def test_two_runs_of_one_request_share_a_plan_and_nothing_of_their_own(shipped_url: str) -> None:
    with httpx.Client(base_url=shipped_url, timeout=10) as client:
        before = time.time()
        bodies = [client.post("/teams/research-team/runs", data={"message": "same words"}).content for _ in range(2)]
    assert all(OPEN.encode() not in body for body in bodies), "no mark reaches the wire"
    first, second = (parse_sse(body) for body in bodies)
    assert [e for e, _ in first] == [e for e, _ in second]
    runs = [frames[0][1]["run_id"] for frames in (first, second)]
    assert runs[0] != runs[1] and all(str(uuid.UUID(r)) == r for r in runs)
    assert first[0][1]["session_id"] != second[0][1]["session_id"]
    ids = [_ids(first), _ids(second)]
    assert ids[0] and ids[1] and not ids[0] & ids[1], "member runs and messages get new ids every run"
    for frames, run_id in zip((first, second), runs, strict=True):
        assert all(d["run_id"] == run_id for e, d in frames if "parent_run_id" not in d)
        assert all(d["parent_run_id"] == run_id for e, d in frames if "parent_run_id" in d)
        assert all(int(before) <= d["created_at"] <= time.time() + 1 for _, d in frames)
        tools = [d["tool"] for e, d in frames if e.endswith("ToolCallCompleted")]
        assert tools and all(before - 1 < t["metrics"]["start_time"] <= t["metrics"]["end_time"] for t in tools)
        content = "".join(d["content"] for e, d in frames if e == "TeamRunContent")
        assert f"run `{run_id}`" in content, "a template's {{ run_id }} is the run's own"


def test_the_plan_is_made_once_per_request_and_again_after_a_reload(tmp_path: Path) -> None:
    (tmp_path / "tokens.yaml").write_text(TOKENS)
    app = create_app(Settings(scenarios=tmp_path, speed=0))
    state = app.state.mock
    with serve_app(app) as (url, _), httpx.Client(base_url=url, timeout=10) as client:
        for message in ("a", "a", "b"):
            assert client.post("/teams/tokens/runs", data={"message": message, "stream": "false"}).status_code == 200
        assert len(state.plans) == 2
        state.scenarios = load_directory(tmp_path)  # what a reload does: new scenario objects
        client.post("/teams/tokens/runs", data={"message": "a", "stream": "false"})
        assert len(state.plans) == 3


def test_a_run_with_uploads_is_planned_afresh() -> None:
    app = create_app(Settings(scenarios=SHIPPED, speed=0))
    with serve_app(app) as (url, _), httpx.Client(base_url=url, timeout=10) as client:
        files = {"files": ("a.txt", b"hello", "text/plain")}
        for _ in range(2):
            client.post("/teams/quick-team/runs", data={"message": "x", "stream": "false"}, files=files)
        assert len(app.state.mock.plans) == 0


def test_no_plan_is_kept_with_a_cache_of_zero() -> None:
    app = create_app(Settings(scenarios=SHIPPED, speed=0, plan_cache_size=0))
    with serve_app(app) as (url, _), httpx.Client(base_url=url, timeout=10) as client:
        client.post("/teams/quick-team/runs", data={"message": "x", "stream": "false"})
        assert len(app.state.mock.plans) == 0


def test_marks_inside_tokens_are_never_cut_and_stamped_everywhere(tmp_path: Path) -> None:
    (tmp_path / "tokens.yaml").write_text(TOKENS)
    with run_server(Settings(scenarios=tmp_path, speed=0)) as url, httpx.Client(base_url=url, timeout=10) as client:
        session = "my-session"
        streamed = parse_sse(client.post("/teams/tokens/runs", data={"message": "m", "session_id": session}).content)
        run_id = streamed[0][1]["run_id"]
        text = "".join(d["content"] for e, d in streamed if e == "TeamRunContent")
        assert text == f"run {run_id} of session {session}, ok"
        assert streamed[-1][1]["content"] == text
        stored = client.get(f"/sessions/{session}/runs").json()
        assert stored[0]["run_id"] == run_id and stored[0]["content"] == text
        assert stored[0]["created_at"].endswith("Z") and not stored[0]["created_at"].startswith("1970")
        output = client.get(f"/teams/tokens/runs/{run_id}?session_id={session}").json()
        assert output["run_id"] == run_id and OPEN not in json.dumps(stored) + json.dumps(output)
        journal = client.get("/__mock/requests").json()
        assert OPEN not in json.dumps(journal)


@pytest.mark.parametrize("forged", ["\ue000r\ue001", "\ue000deadbeefr\ue001", f"{PREFIX[:-1]}t1.0\ue001"])
def test_a_message_that_looks_like_a_mark_is_echoed_as_sent(forged: str) -> None:
    with run_server(Settings(scenarios=SHIPPED, speed=0)) as url, httpx.Client(base_url=url, timeout=10) as client:
        body = client.post("/teams/quick-team/runs", data={"message": f"say {forged} back", "stream": "false"})
    assert body.status_code == 200 and body.json()["input"]["input_content"] == f"say {forged} back"


def test_a_stamp_puts_numbers_where_whole_time_marks_are_and_text_elsewhere() -> None:
    team = load_text(TOKENS)
    scenario = team.scenarios[0]
    stamp = Stamp(RunContext(team=team, scenario=scenario, message="m", session_id="s", run_id="r", started_at=100.5))
    value = {"a": created_at(2.0), "b": [moment(0.25)], "c": f"at {created_at(1.0)}", "d": iso_at(0.0)}
    value["e"] = drawn_id(1)
    stamped = stamp.data(value)
    assert stamped["a"] == 102 and stamped["b"] == [100.75] and stamped["c"] == "at 101"
    assert stamped["d"] == "1970-01-01T00:01:40Z" and str(uuid.UUID(stamped["e"])) == stamped["e"]
    encoded = json.dumps(value, ensure_ascii=False).encode()  # as every encoder writes it
    assert json.loads(stamp.wire(encoded)) == stamped
    nested = json.dumps({"raw": ascii_json(value)}, ensure_ascii=False).encode()  # a tool's args, as agno dumps them
    assert json.loads(json.loads(stamp.wire(nested))["raw"]) == stamped, "a mark inside JSON encoded twice"


def test_build_plan_holds_marks_where_a_run_has_its_own_values() -> None:
    team = load_text(TOKENS)
    context = RunContext(team=team, scenario=team.scenarios[0], message="m", session_id="s", run_id="r")
    plan = build_plan(context)
    assert plan.context.run_id != "r" and all(OPEN in f.data["created_at"] for f in plan.frames)
    played = Stamp(context).plan(plan)
    assert all(f.data["run_id"] == "r" and isinstance(f.data["created_at"], int) for f in played.frames)


def test_whole_runs_of_a_kept_plan_share_their_timeline_rows_but_not_their_ids() -> None:
    app = create_app(Settings(scenarios=SHIPPED, speed=0))
    with serve_app(app) as (url, _), httpx.Client(base_url=url, timeout=10) as client:
        runs = [client.post("/teams/research-team/runs", data={"message": "twice"}) for _ in range(2)]
    first, second = list(app.state.mock.space().journal)[-2:]
    rows = first["timeline"]["frames"], second["timeline"]["frames"]
    assert len(rows[0]) == len(rows[1]) == len(parse_sse(runs[0].content))
    shared = [a is b for a, b in zip(*rows, strict=True)]
    assert sum(shared) == len(shared) - 1, "every row is shared but the one naming the run"
    for entry, response in zip((first, second), runs, strict=True):
        run_id = parse_sse(response.content)[0][1]["run_id"]
        assert entry["run_id"] == run_id and any(run_id in (row[3] or "") for row in entry["timeline"]["frames"])


def _stored(state: Any, session_id: str) -> list[Any]:
    """The session's stored runs, once the run is recorded (just after its response ends)."""
    deadline = time.monotonic() + 5
    while (session := state.space().sessions.get(session_id)) is None:
        assert time.monotonic() < deadline, f"session {session_id} never stored"
        time.sleep(0.01)
    return list(session.stored_runs)


def test_a_stored_run_lets_its_plan_go_when_the_cache_does_and_reads_back_the_same() -> None:
    app = create_app(Settings(scenarios=SHIPPED, speed=0, plan_cache_size=250 * 1024))  # one research-team plan
    state = app.state.mock
    with serve_app(app) as (url, _), httpx.Client(base_url=url, timeout=10) as client:
        streamed = parse_sse(
            client.post("/teams/research-team/runs", data={"message": "first", "session_id": "a"}).content
        )
        (first,) = _stored(state, "a")
        assert first._played is not None, "its plan is kept, so the run keeps only a share of it"
        client.post("/teams/research-team/runs", data={"message": "second", "session_id": "b"})
        assert len(state.plans) == 1 and first._played is None, "the cache let the first plan go, and so did the run"
        stored = client.get("/sessions/a/runs").json()[-1]  # made when the plan went, read now
        assert stored["run_id"] == streamed[0][1]["run_id"] and stored["content"] == streamed[-1][1]["content"]
