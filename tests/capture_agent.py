"""Regenerate `tests/captures/agentos-3.1.10-agent/` from a real AgentOS 3.1.10: `python -m tests.capture_agent`.

The stand-alone agent `assistant` of `tests/real_agentos.py` (a scripted offline model): its
discovery entries, streamed and non-streamed runs (plain text, a tool call, a model error), a
cancelled run, and what its session stores (`type=agent`). Each exchange is saved as `NAME.txt`
(request, status, headers, body, notes) and `NAME.body` (the body bytes), like the team captures.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests import capture_real
from tests.capture_real import Exchange, frames_in, multipart
from tests.real_agentos import run_real_agentos

OUT = Path(__file__).resolve().parent / "captures" / "agentos-3.1.10-agent"
RUNS = "/agents/assistant/runs"


def get(client: httpx.Client, name: str, note: str, path: str) -> Exchange:
    exchange = Exchange(name, note, "GET", path, None)
    response = client.get(path)
    exchange.answer(response, response.content)
    return exchange


def post(client: httpx.Client, name: str, note: str, form: dict[str, str], path: str = RUNS) -> Exchange:
    exchange = Exchange(name, note, "POST", path, form)
    response = client.post(path, files=multipart(form))
    exchange.answer(response, response.content)
    return exchange


def cancelled(client: httpx.Client) -> list[Exchange]:
    """`slow`, cancelled with `POST /agents/assistant/runs/{run_id}/cancel` after 3 frames."""
    form = {"message": "slow", "stream": "true"}
    run = Exchange("g6_agent_cancel_stream", "`slow`, cancelled after 3 frames", "POST", RUNS, form)
    exchanges = [run]
    body = b""
    with client.stream("POST", RUNS, files=multipart(form)) as response:
        for chunk in response.iter_raw():
            body += chunk
            frames = frames_in(body)
            if len(frames) >= 3 and len(exchanges) == 1:
                path = f"{RUNS}/{frames[0]['run_id']}/cancel"
                cancel = Exchange("g6_agent_cancel", "cancel the agent run while it streams", "POST", path, None)
                answer = client.post(path)
                cancel.answer(answer, answer.content)
                exchanges.append(cancel)
                run.notes.append(f"cancel POSTed after {len(frames)} frames")
        run.answer(response, body)
    return exchanges


def capture(client: httpx.Client) -> list[Exchange]:
    saved = [
        get(client, "g1_agents", "GET /agents: the stand-alone agent", "/agents"),
        get(client, "g1_agent", "GET /agents/{id}", "/agents/assistant"),
        get(client, "g1_agent_unknown", "GET /agents/{id} of an unknown agent", "/agents/nope"),
        post(client, "g2_agent_stream_hello", "`hello`: three deltas, no tool", {"message": "hello", "stream": "true"}),
        post(
            client,
            "g3_agent_stream_lookup",
            "`lookup`: one tool call, then the answer",
            {"message": "lookup France", "stream": "true", "session_id": "agent-session-1"},
        ),
        post(
            client,
            "g4_agent_nonstream_lookup",
            "`lookup` with stream=false: the RunOutput JSON",
            {"message": "lookup France", "stream": "false", "session_id": "agent-session-1"},
        ),
        post(client, "g5_agent_stream_fail", "`fail`: the model raises", {"message": "fail", "stream": "true"}),
        post(client, "g5_agent_nonstream_fail", "`fail` with stream=false", {"message": "fail", "stream": "false"}),
        post(client, "g7_agent_unknown_run", "a run of an unknown agent", {"message": "hi"}, "/agents/nope/runs"),
    ]
    saved += cancelled(client)
    time.sleep(0.2)
    saved += [
        get(
            client,
            "g8_agent_session_runs",
            "the runs of the lookup session, type=agent",
            "/sessions/agent-session-1/runs?type=agent",
        ),
        get(client, "g8_agent_session", "the lookup session, type=agent", "/sessions/agent-session-1?type=agent"),
        get(client, "g8_agent_sessions", "the agent's sessions", "/sessions?type=agent&component_id=assistant"),
    ]
    return saved


def main() -> None:
    OUT.mkdir(exist_ok=True)
    capture_real.OUT = OUT  # Exchange.save writes into capture_real.OUT: the same format, this folder
    with run_real_agentos() as url, httpx.Client(base_url=url, timeout=30) as client:
        exchanges = capture(client)
    for exchange in exchanges:
        exchange.save()
    print(f"{len(exchanges)} exchanges saved in {OUT}")


if __name__ == "__main__":
    main()
