"""Discovery routes against the j1…j5 captures: same keys in the same order, built from the scenarios."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mockserver.http.discovery import DB_ID
from mockserver.settings import Settings
from tests.conftest import CAPTURES, SHIPPED, capture_json, run_server


@pytest.fixture(scope="module")
def client(shipped_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shipped_url) as client:
        yield client


def test_health_has_the_captured_shape(client: httpx.Client) -> None:
    body = client.get("/health").json()
    assert list(body) == list(capture_json("j1_health"))
    assert body["status"] == "ok" and body["instantiated_at"].endswith("Z")


def test_agents_lists_only_the_agent_files_as_members_belong_to_teams(client: httpx.Client) -> None:
    assert capture_json("j4_agents") == []  # a real AgentOS whose agents are all team members
    assert [a["id"] for a in client.get("/agents").json()] == ["assistant"]  # scenarios/assistant-agent.yaml
    assert client.get("/agents/researcher").status_code == 404


def test_teams_lists_every_scenario_team_in_the_captured_key_order(client: httpx.Client) -> None:
    teams = client.get("/teams").json()
    ids = {t["id"] for t in teams}
    assert {"quick-team", "research-team", "topic-team", "error-500", "error-flaky"} <= ids
    assert ids == {p.stem for p in SHIPPED.glob("*.yaml")} - {"assistant-agent"}
    captured = capture_json("j2_teams")[0]
    research = next(t for t in teams if t["id"] == "research-team")
    assert list(research) == list(captured)
    assert list(research["members"][0]) == list(captured["members"][0])
    assert research["db_id"] == DB_ID and research["members"][0]["db_id"] == DB_ID
    assert research["model"] == {"name": "OpenAIChat", "model": "gpt-4o", "provider": "OpenAI"}
    assert [m["id"] for m in research["members"]] == ["researcher", "writer"]
    assert research["tools"]["tools"][0] == captured["tools"]["tools"][0]  # delegate_task_to_member
    researcher_tools = research["members"][0]["tools"]["tools"]
    real_tool = captured["members"][0]["tools"]["tools"][0]
    assert list(researcher_tools[0]) == list(real_tool), "name, description, parameters: the real key order"
    assert researcher_tools == [
        {
            "name": "web_search",
            "description": "Search the web and return the top results.",
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string"}, "max_results": {"type": "integer"}},
                "required": ["query", "max_results"],
            },
        }
    ]
    assert "tools" not in research["members"][1]


def test_a_team_without_members_has_no_delegation_tool(client: httpx.Client) -> None:
    quick = client.get("/teams/quick-team").json()
    assert quick["members"] == [] and "tools" not in quick


def test_one_team_matches_its_list_entry_and_unknown_is_404(client: httpx.Client) -> None:
    listed = next(t for t in client.get("/teams").json() if t["id"] == "topic-team")
    assert client.get("/teams/topic-team").json() == listed
    unknown = client.get("/teams/no-such-team")
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "Team not found", "error_code": "NOT_FOUND"}


def test_unknown_team_in_agentos_format_is_the_captured_bytes() -> None:
    with run_server(Settings(scenarios=SHIPPED, error_format="agentos")) as url:
        response = httpx.get(f"{url}/teams/no-such-team")
    assert response.content == (CAPTURES / "j3b_team_unknown.body").read_bytes()


def test_config_has_the_captured_keys_and_lists_the_teams(client: httpx.Client) -> None:
    body = client.get("/config").json()
    captured = capture_json("j5_config")
    assert list(body) == list(captured)
    assert body["os_database"] == DB_ID and body["databases"] == [DB_ID]
    teams = len(list(SHIPPED.glob("*.yaml"))) - 1  # assistant-agent.yaml is an agent
    assert [list(t) for t in body["teams"]] == [list(captured["teams"][0])] * teams
    assert {m["provider"] for m in body["available_models"]} == {"OpenAI", "Anthropic"}
    assert body["agents"] == [] and body["session"]["dbs"][0]["tables"] == ["agno_sessions"]


def test_teams_that_answer_come_before_the_error_teams(client: httpx.Client) -> None:
    """agent-ui selects the first team it is given: that must be one that works."""
    ids = [t["id"] for t in client.get("/teams").json()]
    first_error = next(i for i, team in enumerate(ids) if team.startswith("error-"))
    assert all(team.startswith("error-") for team in ids[first_error:])
    assert ids[0] == "quick-team"
