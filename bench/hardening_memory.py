"""What hostile-sized input costs a real `mockserver serve` in memory: peak RSS growth per case.

    python bench/hardening_memory.py                 # every case, as in bench/hardening_memory.md
    python bench/hardening_memory.py message files   # some of them

Each case starts its own server (`--speed 0`, shipped scenarios), warms it with one small run,
resets the kernel's peak-RSS mark (`/proc/PID/clear_refs`, Linux, needs the process to be
ours), sends its requests, and reads VmHWM (peak) and VmRSS (now) from `/proc/PID/status`.

- message: one 1 MiB `message` to quick-team (which echoes it), streamed, then with stream=false;
  then the same to a team whose answer does not repeat the message.
- files: 40 files of 1 MiB each in one request, streamed, then with stream=false.
- session: 5,000 runs into one session (`--max-session-runs` 100 keeps the newest 100).
- sessions: 20,000 session ids, two runs each (`--max-sessions` 1000 keeps 1,000), each also
  counted by a `per: session` fault rule (`--max-fault-counters` 10,000).
- namespaces: 400 runs of a 1 MiB message (stream=false) spread over 100 `X-Mock-Namespace`s:
  `--max-store-size` and `--max-journal-bytes` bound all namespaces together.
"""

from __future__ import annotations

import functools
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
COUNTED = """version: 1
team: {id: counted, name: Counted}
scenarios:
  - name: answer
    events:
      - text: "ok"
faults:
  - status: 503
    times: 1
    per: session
"""
FIXED = """version: 1
team: {id: fixed, name: Fixed}
scenarios:
  - name: answer
    events:
      - text: "A short answer that does not repeat the question."
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def status(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            fields[name] = int(value.split()[0]) * 1024
    return fields


@contextmanager
def server(scenarios: Path, *extra: str, warm: str = "/teams/quick-team/runs") -> Iterator[tuple[int, int]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSERVER_")}
    command = [
        sys.executable,
        "-m",
        "mockserver",
        "serve",
        "--port",
        str(port),
        "--speed",
        "0",
        "--scenarios",
        str(scenarios),
        "--no-reload",
        "--no-access-log",
        *extra,
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                post(port, warm, b"message=warm")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


def post(
    port: int,
    path: str,
    body: bytes,
    content_type: str = "application/x-www-form-urlencoded",
    headers: dict[str, str] | None = None,
) -> tuple[int, int]:
    """(status, bytes of the answer), read to the end."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        method = "GET" if path == "/health" or path.startswith("/sessions") else "POST"
        sent = {"content-type": content_type, **(headers or {})}
        connection.request(method, path, body=None if method == "GET" else body, headers=sent)
        response = connection.getresponse()
        size = 0
        while chunk := response.read(MIB):
            size += len(chunk)
        return response.status, size
    finally:
        connection.close()


def measure(pid: int, send: Callable[[], object]) -> dict[str, float]:
    before = status(pid)["VmRSS"]
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # peak RSS := current RSS
    started = time.monotonic()
    send()
    elapsed = time.monotonic() - started
    after = status(pid)
    return {
        "peak_growth_mib": (after["VmHWM"] - before) / MIB,
        "kept_mib": (after["VmRSS"] - before) / MIB,
        "seconds": elapsed,
    }


def multipart(files: int, size: int, stream: bool) -> tuple[bytes, str]:
    boundary = "hardeningBench"
    block = os.urandom(size)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="message"\r\n\r\nfiles\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="stream"\r\n\r\n{str(stream).lower()}\r\n'.encode(),
    ]
    for index in range(files):
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="f{index}.png"\r\n'
            f"Content-Type: image/png\r\n\r\n".encode()
            + block
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _post_into(
    answers: list[tuple[int, int]], port: int, body: bytes, *content_type: str, team: str = "quick-team"
) -> None:
    answers.append(post(port, f"/teams/{team}/runs", body, *content_type))


def case_message(tmp: Path) -> list[dict[str, object]]:
    (tmp / "fixed.yaml").write_text(FIXED)
    message = ("word " * (MIB // 5 + 1))[:MIB]
    rows = []
    for team, scenarios in (("quick-team", ROOT / "scenarios"), ("fixed", tmp)):
        for stream in (True, False):
            body = urlencode({"message": message, "stream": str(stream).lower()}).encode()
            with server(scenarios, warm=f"/teams/{team}/runs") as (port, pid):
                answer: list[tuple[int, int]] = []
                row = measure(pid, functools.partial(_post_into, answer, port, body, team=team))
            rows.append(
                {
                    "case": f"1 MiB message to {team}, stream={str(stream).lower()}",
                    "input_mib": 1.0,
                    "status": answer[0][0],
                    "answer_mib": answer[0][1] / MIB,
                    **row,
                }
            )
    return rows


def case_files() -> list[dict[str, object]]:
    rows = []
    for stream in (True, False):
        body, content_type = multipart(40, MIB, stream)
        with server(ROOT / "scenarios") as (port, pid):
            answer: list[tuple[int, int]] = []
            row = measure(pid, functools.partial(_post_into, answer, port, body, content_type))
        rows.append(
            {
                "case": f"40 x 1 MiB files, stream={str(stream).lower()}",
                "input_mib": len(body) / MIB,
                "status": answer[0][0],
                "answer_mib": answer[0][1] / MIB,
                **row,
            }
        )
    return rows


def case_session() -> list[dict[str, object]]:
    rows = []
    with server(ROOT / "scenarios") as (port, pid):

        def runs(count: int) -> Callable[[], None]:
            def send() -> None:
                for index in range(count):
                    post(
                        port,
                        "/teams/research-team/runs",
                        urlencode({"message": f"q{index}", "session_id": "one"}).encode(),
                    )

            return send

        first = measure(pid, runs(100))
        rest = measure(pid, runs(4900))
        stored = post(port, "/sessions/one/runs", b"")
    rows.append({"case": "runs 1-100 into one session", **first})
    rows.append({"case": "runs 101-5,000 into the same session", "stored_runs_json_mib": stored[1] / MIB, **rest})
    return rows


def case_sessions(tmp: Path) -> list[dict[str, object]]:
    (tmp / "counted.yaml").write_text(COUNTED)
    rows = []
    with server(tmp, warm="/health") as (port, pid):

        def ids(start: int, count: int) -> Callable[[], None]:
            def send() -> None:
                for index in range(start, start + count):
                    session = urlencode({"message": "hi", "session_id": f"s{index}"}).encode()
                    post(port, "/teams/counted/runs", session)  # 503: counted
                    post(port, "/teams/counted/runs", session)  # 200: stored

            return send

        first = measure(pid, ids(0, 1000))
        rest = measure(pid, ids(1000, 9000))
        more = measure(pid, ids(10000, 10000))
    rows.append({"case": "session ids 1-1,000 (two runs each)", **first})
    rows.append({"case": "session ids 1,001-10,000", **rest})
    rows.append({"case": "session ids 10,001-20,000 (past --max-fault-counters: flat)", **more})
    return rows


def case_namespaces() -> list[dict[str, object]]:
    message = ("word " * (MIB // 5 + 1))[:MIB]
    body = urlencode({"message": message, "stream": "false"}).encode()
    rows = []
    with server(ROOT / "scenarios") as (port, pid):

        def runs(start: int, count: int) -> Callable[[], None]:
            def send() -> None:
                for index in range(start, start + count):
                    space = {"x-mock-namespace": f"ns{index % 100}"}
                    post(port, "/teams/quick-team/runs", body, headers=space)

            return send

        first = measure(pid, runs(0, 100))
        rest = measure(pid, runs(100, 300))
    rows.append({"case": "1 MiB messages, runs 1-100, one per namespace", "input_mib": 100.0, **first})
    rows.append({"case": "runs 101-400, the same 100 namespaces", "input_mib": 300.0, **rest})
    return rows


def main(cases: list[str]) -> None:
    import tempfile

    chosen = cases or ["message", "files", "session", "sessions", "namespaces"]
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        runners: dict[str, Callable[[], list[dict[str, object]]]] = {
            "message": lambda: case_message(Path(tmp)),
            "files": case_files,
            "session": case_session,
            "sessions": lambda: case_sessions(Path(tmp)),
            "namespaces": case_namespaces,
        }
        for name in chosen:
            rows.extend(runners[name]())
    for row in rows:
        print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()}))


if __name__ == "__main__":
    main(sys.argv[1:])
