import httpx

from tests.conftest import parse_sse


def test_a_shipped_team_streams_an_answer(shipped_url: str) -> None:
    response = httpx.post(f"{shipped_url}/teams/quick-team/runs", data={"message": "hi"})
    assert response.status_code == 200
    frames = parse_sse(response.content)
    assert frames[0][0] == "TeamRunStarted" and frames[-1][0] == "TeamRunCompleted"
