"""Regenerate `tests/captures/agentos-3.1.10-extra/` from a real AgentOS 3.1.10: `python -m tests.capture_real`.

The question these captures answer: what does AgentOS store (`GET /sessions/{id}/runs?type=team`)
for a run whose client went away mid-stream, a run whose model raised, and a run cancelled with
`POST /teams/{id}/runs/{run_id}/cancel`. Each exchange is saved as `NAME.txt` (request, status,
headers, body, notes) and `NAME.body` (the body bytes); `summary.json` lists the stored runs.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.real_agentos import run_real_agentos

OUT = Path(__file__).resolve().parent / "captures" / "agentos-3.1.10-extra"
RUNS = "/teams/research-team/runs"
LATER = 5.0
"""Seconds to wait before looking again: a `slow` run (20 deltas 100 ms apart) ends within 2 s."""


@dataclass
class Exchange:
    name: str
    note: str
    method: str
    path: str
    form: dict[str, str] | None
    status: int = 0
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    notes: list[str] = field(default_factory=list)

    def answer(self, response: httpx.Response, body: bytes) -> None:
        self.status, self.reason, self.body = response.status_code, response.reason_phrase, body
        self.headers = [(k.decode(), v.decode()) for k, v in response.headers.raw]

    def save(self) -> None:
        form = "&".join(f"{k}={v}" for k, v in (self.form or {}).items())
        head = "\n".join(f"{k}: {v}" for k, v in self.headers)
        text = (
            f"# capture: {self.name}\n# {self.note}\n\n"
            f"=== REQUEST ===\n{self.method} {self.path}\n"
            + (f"form (multipart): {form}\n" if form else "")
            + f"\n=== RESPONSE HEAD ===\nHTTP/1.1 {self.status} {self.reason}\n{head}\n"
            f"\n=== RESPONSE BODY ({len(self.body)} bytes) ===\n{self.body.decode()}\n=== END BODY ===\n"
            + "".join(f"\n# {line}" for line in self.notes)
            + "\n"
        )
        (OUT / f"{self.name}.txt").write_text(text)
        (OUT / f"{self.name}.body").write_bytes(self.body)


def frames_in(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(block.split(b"\ndata: ", 1)[1]) for block in body.split(b"\n\n")[:-1]]


def multipart(form: dict[str, str]) -> dict[str, tuple[None, str]]:
    """As agent-ui posts it: multipart/form-data with plain fields."""
    return {k: (None, v) for k, v in form.items()}


@dataclass(frozen=True)
class Case:
    """One streamed team run, then the session's runs `now` (50 ms after the stream) and/or `later`."""

    name: str
    message: str
    note: str
    close_after: int = 0  # hang up after this many frames
    cancel_after: int = 0  # POST the cancel endpoint after this many frames
    looks: tuple[str, ...] = ("now",)


CASES = (
    Case(
        "n1_disconnect",
        "slow",
        "`slow` (20 deltas 100 ms apart); the client hangs up after 3 frames",
        close_after=3,
        looks=("now", "later"),
    ),
    Case(
        "n2_disconnect_member",
        "slowmember",
        "`slowmember`: the client hangs up during the member's slow answer",
        close_after=12,
        looks=("later",),
    ),
    Case("n3_model_error", "fail", "`fail`: the leader's model raises"),
    Case("n4_cancel", "slow", "`slow`, cancelled with the cancel endpoint after 3 frames", cancel_after=3),
    Case(
        "n5_cancel_member",
        "slowmember",
        "`slowmember`, the team run cancelled during the member's answer",
        cancel_after=12,
    ),
)
WAITS = {"now": 0.05, "later": LATER}


def stream(client: httpx.Client, case: Case) -> list[Exchange]:
    """The run's exchange, then the cancel's if the case cancels."""
    form = {"message": case.message, "stream": "true"}
    run = Exchange(f"{case.name}_stream", case.note, "POST", RUNS, form)
    exchanges = [run]
    started, body = time.monotonic(), b""
    with client.stream("POST", RUNS, files=multipart(form)) as response:
        for chunk in response.iter_raw():
            body += chunk
            frames = frames_in(body)
            if case.close_after and len(frames) >= case.close_after:
                run.notes.append(f"client closed the connection after {len(frames)} frames, at {_ms(started)} ms")
                break  # leaving the `with` block mid-body closes the connection
            if case.cancel_after and len(frames) >= case.cancel_after and len(exchanges) == 1:
                exchanges.append(cancel(client, f"{case.name}_cancel", frames[0]["run_id"]))
                run.notes.append(f"cancel POSTed after {len(frames)} frames, at {_ms(started)} ms")
        run.answer(response, body)
    return exchanges


def cancel(client: httpx.Client, name: str, run_id: str) -> Exchange:
    path = f"{RUNS}/{run_id}/cancel"
    exchange = Exchange(name, "cancel the team run while it streams", "POST", path, None)
    response = client.post(path)
    exchange.answer(response, response.content)
    return exchange


def stored(client: httpx.Client, name: str, note: str, session_id: str) -> Exchange:
    path = f"/sessions/{session_id}/runs?type=team"
    exchange = Exchange(name, note, "GET", path, None)
    response = client.get(path)
    exchange.answer(response, response.content)
    return exchange


def summarize(exchange: Exchange) -> list[dict[str, Any]]:
    return [
        {
            "component": run.get("team_id") or run.get("agent_id"),
            "status": run["status"],
            "cancellation_stage": run.get("cancellation_stage"),
            "content": run.get("content"),
            "stored_events": [event["event"] for event in run.get("events") or []],
        }
        for run in json.loads(exchange.body)
    ]


def capture(client: httpx.Client) -> list[Exchange]:
    saved: list[Exchange] = []
    for case in CASES:
        exchanges = stream(client, case)
        ended, session_id = time.monotonic(), frames_in(exchanges[0].body)[0]["session_id"]
        for look in case.looks:
            time.sleep(max(0.0, ended + WAITS[look] - time.monotonic()))
            note = f"the session's runs, {time.monotonic() - ended:.2f} s after the stream ended"
            exchanges.append(stored(client, f"{case.name}_runs_{look}", note, session_id))
        saved += exchanges
    return saved


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with run_real_agentos() as url, httpx.Client(base_url=url, timeout=30) as client:
        exchanges = capture(client)
    for exchange in exchanges:
        exchange.save()
    runs = {e.name: summarize(e) for e in exchanges if e.path.startswith("/sessions/") and e.status == 200}
    (OUT / "summary.json").write_text(json.dumps(runs, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(exchanges)} exchanges saved in {OUT}")


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


if __name__ == "__main__":
    main()
