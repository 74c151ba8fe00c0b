"""What fault rules cost, measured in one run against real uvicorn servers on loopback.

1. Rule selection on the request path: runs/s of a plain team with no rules at all, with 10
   or 200 rules that cover other teams, and with 200 rules that cover it but whose `match`
   misses (every rule's glob and regex are checked on every request). Reported as ratios.
   Then `select_fault` alone, in-process, per request.
2. Keep-alive cadence of a stall: how late each `: keep-alive` comment arrives against its
   absolute deadline (start + k * interval), and whether that lateness grows over the stream.

Run: python bench/faults.py   (from the repository root, with the test extras installed)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
import timeit
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mockserver.app import create_app
from mockserver.run.faults import select_fault
from mockserver.run.plan import RunContext
from mockserver.scenarios.loader import load_directory
from mockserver.settings import Settings
from mockserver.state import AppState
from tests.conftest import free_port

REQUESTS = 400
BATCH = 20
RULES = 200
BEATS = 100
INTERVAL = 0.01

TEAM = """\
version: 1
team:
  id: {id}
scenarios:
  - name: reply
    events:
      - text: a short reply of a few words
"""


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    settings = Settings(scenarios=directory, host="127.0.0.1", port=free_port(), speed=0)
    config = uvicorn.Config(
        create_app(settings), host=settings.host, port=settings.port, log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://{settings.host}:{settings.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def rules(team_glob: str, count: int) -> str:
    return "faults:\n" + "".join(
        f"  - status: 500\n    team: '{team_glob}'\n    match: ^never-{i}$\n" for i in range(count)
    )


def selection(root: Path) -> None:
    """All layouts served at once and measured in alternating batches, so load from anything
    else on the machine falls on each of them alike."""
    layouts = {
        "no rules": {"plain.yaml": TEAM.format(id="plain")},
        "10 rules for other teams": {
            "plain.yaml": TEAM.format(id="plain"),
            "other.yaml": TEAM.format(id="other-1") + rules("other-*", 10),
        },
        f"{RULES} rules for other teams": {
            "plain.yaml": TEAM.format(id="plain"),
            "other.yaml": TEAM.format(id="other-1") + rules("other-*", RULES),
        },
        f"{RULES} rules for this team, none matching": {"plain.yaml": TEAM.format(id="plain") + rules("pl*", RULES)},
    }
    spent = dict.fromkeys(layouts, 0.0)
    with ExitStack() as stack:
        clients = {}
        for index, (name, files) in enumerate(layouts.items()):
            directory = root / f"layout-{index}"
            directory.mkdir()
            for file, text in files.items():
                (directory / file).write_text(text, encoding="utf-8")
            clients[name] = stack.enter_context(httpx.Client(base_url=stack.enter_context(serve(directory))))
        for round_ in range(-1, REQUESTS // BATCH):
            for name, client in clients.items():
                started = time.perf_counter()
                for i in range(BATCH):
                    response = client.post("/teams/plain/runs", data={"message": f"hello {i}", "stream": "false"})
                    assert response.status_code == 200
                if round_ >= 0:  # round -1 warms up
                    spent[name] += time.perf_counter() - started
    base = spent["no rules"]
    print(f"rule selection, {REQUESTS} non-streamed runs per layout in alternating batches of {BATCH}:")
    for name, seconds in spent.items():
        print(f"  {name:<42} {REQUESTS / seconds:8.0f} runs/s   time ratio {seconds / base:.2f}")


def selection_alone(root: Path) -> None:
    """`select_fault` by itself, in-process: the share of a run it can account for."""
    print("select_fault alone (in-process, best of 5 x 2000 calls):")
    for index, directory in enumerate(sorted(root.glob("layout-*"))):
        state = AppState(settings=Settings(), scenarios=load_directory(directory), faker=None)
        team = state.scenarios.teams["plain"]
        context = RunContext(team=team, scenario=team.scenarios[0], message="hello", session_id="s", run_id="r")
        best = min(timeit.repeat(lambda s=state, c=context: select_fault(s, c), number=2000, repeat=5)) / 2000
        rules_count = sum(len(t.faults) for t in state.scenarios.teams.values())
        print(f"  layout {index}: {rules_count:3d} rules  {best * 1e6:7.1f} us per request")


def cadence(root: Path) -> None:
    directory = root / "stall"
    directory.mkdir()
    (directory / "stall.yaml").write_text(
        TEAM.format(id="plain") + f"faults:\n  - stall: true\n    keep_alive: {INTERVAL}s\n    after: 1\n",
        encoding="utf-8",
    )
    arrivals = []
    with serve(directory) as url, httpx.stream("POST", f"{url}/teams/plain/runs", data={"message": "hi"}) as response:
        buffer = b""
        for chunk in response.iter_raw():
            now = time.perf_counter()
            buffer += chunk
            while b": keep-alive\n\n" in buffer:
                buffer = buffer.replace(b": keep-alive\n\n", b"", 1)
                arrivals.append(now)
            if len(arrivals) > BEATS:
                break
    first = arrivals[0]
    lateness = [(at - (first + k * INTERVAL)) * 1000 for k, at in enumerate(arrivals)]
    early, late = statistics.mean(lateness[: BEATS // 4]), statistics.mean(lateness[-BEATS // 4 :])
    print(f"keep-alive cadence, {BEATS} comments every {INTERVAL * 1000:.0f} ms (lateness vs absolute deadlines):")
    print(
        f"  mean {statistics.mean(lateness):.2f} ms, max {max(lateness):.2f} ms; "
        f"first quarter {early:.2f} ms, last quarter {late:.2f} ms (no drift if equal)"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        selection(root)
        selection_alone(root)
        cadence(root)


if __name__ == "__main__":
    main()
