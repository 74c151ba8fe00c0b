"""The mock against a bare Starlette app serving the same bytes, alternating, in one run; prints ratios.

The bare app (`BARE_APP` below) answers the same multipart POST (it parses the form, as the
mock does) with a `StreamingResponse` of the very bytes the mock sent for the same request,
one frame a send, and serves `/health`. Every measurement runs against both servers in turn,
in alternating order, round after round, so the ratios hold on a shared and noisy machine.

1. throughput: speed 0, research-team, `--connections` keep-alive connections (wrk -c10's shape),
   in slices of `--seconds`, mock and bare in turn; runs per second, and the median of the
   mock / bare ratios of the slice pairs.
2. burst: `--streams` concurrent streams of 20 frames 100 ms apart (the `ticks` team, written
   to a temporary folder), all started at once, over raw sockets; median and last stream done,
   the ratio of the last, and the mock's own lateness (the `late_ms` of its run log lines).
3. start and memory: seconds from spawning the process to the first 200 on `/health`, RSS then,
   and the mock's RSS after `--finished` research-team runs (speed 0, 50 at a time).
4. timing: one 200-event stream 20 ms apart; worst lateness and drift on arrival at the client.

The load generator (`bench/loadgen.py`) runs as its own process. The bare app always runs on
asyncio + h11; the mock runs on whatever uvicorn picks: uvloop when the `fast`
extra is installed (`pip install -e '.[fast]'`), so run it from a virtualenv with and one
without the extra to see what the extra gives.

Run: python bench/versus.py [--rounds 3] [--slices 8] [--seconds 1.5] [--streams 1000] [--only burst]
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loadgen

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "scenarios"
LOADGEN = Path(__file__).resolve().parent / "loadgen.py"
HOST = "127.0.0.1"

BARE_APP = textwrap.dedent("""
    import asyncio
    import os

    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, StreamingResponse
    from starlette.routing import Route

    def frames(path):
        body = open(path, "rb").read()
        return [frame + b"\\n\\n" for frame in body[:-2].split(b"\\n\\n")]

    RESEARCH = frames(os.environ["BARE_RESEARCH"])
    TICKS = frames(os.environ["BARE_TICKS"])

    async def research():
        for frame in RESEARCH:
            yield frame

    async def ticks():
        for index, frame in enumerate(TICKS):
            if index:
                await asyncio.sleep(0.1)
            yield frame

    async def run(request):
        await request.form()
        body = ticks() if request.path_params["team_id"] == "ticks" else research()
        return StreamingResponse(body, media_type="text/event-stream; charset=utf-8",
                                 headers={"cache-control": "no-cache", "x-accel-buffering": "no"})

    async def health(request):
        return JSONResponse({"status": "ok"})

    app = Starlette(routes=[Route("/teams/{team_id}/runs", run, methods=["POST"]), Route("/health", health)])
""")

TICKS_SCENARIO = textwrap.dedent("""
    version: 1
    team: {id: ticks, name: Ticks}
    scenarios:
      - name: ticks
        gap: 100ms
        model_requests: false
        events:
""") + "".join(f"          - event: CustomEvent\n            tick: {i}\n" for i in range(18))
"""TeamRunStarted, 18 custom events and TeamRunCompleted: 20 frames 100 ms apart, 1.9 s in all."""

TIMING_SCENARIO = textwrap.dedent("""
    version: 1
    team: {id: timing, name: Timing}
    scenarios:
      - name: timing
        gap: 20ms
        model_requests: false
        events:
""") + "".join(f"          - event: CustomEvent\n            tick: {i}\n" for i in range(198))

LATE = re.compile(rb"team=(\S+) .*late_ms=([0-9.]+)")


def server_stack() -> str:
    """The mock's loop and parser: uvloop when installed (the `fast` extra); always h11, whose
    protocol carries the mock's connection guard (`mockserver/server.py`)."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio + h11"
    return "uvloop + h11"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def health_ok(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return sock.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (`/proc/PID/stat`, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


class Server:
    """A server process; `start` is the seconds from spawning it to its first 200 on /health."""

    def __init__(self, name: str, command: list[str], port: int, log: Path | None = None, env: dict | None = None):
        self.name = name
        self.port = port
        self.log = log
        self.log_offset = 0
        output = open(log, "wb") if log is not None else subprocess.DEVNULL  # noqa: SIM115
        spawned = time.perf_counter()
        self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.DEVNULL, env=env)
        while not health_ok(port):
            if self.process.poll() is not None or time.perf_counter() - spawned > 30:
                raise RuntimeError(f"{name} did not start: {command}")
            time.sleep(0.002)
        self.start = time.perf_counter() - spawned
        self.rss = rss_mib(self.process.pid)

    def lateness(self, team: str) -> list[float]:
        """The `late_ms` of the run log lines of `team` written since the last call."""
        assert self.log is not None
        data = self.log.read_bytes()
        new, self.log_offset = data[self.log_offset :], len(data)
        return [float(m.group(2)) for m in LATE.finditer(new) if m.group(1) == team.encode()]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def mock_command(port: int, scenarios: Path, speed: str) -> list[str]:
    """`mockserver serve`: uvicorn picks uvloop by itself when it is installed (the parser stays h11)."""
    return [
        sys.executable,
        "-m",
        "mockserver",
        "serve",
        "--port",
        str(port),
        "--speed",
        speed,
        "--scenarios",
        str(scenarios),
        "--no-access-log",
    ]


def bare_command(tmp: Path, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--app-dir",
        str(tmp),
        "bare_app:app",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        "--loop",
        "asyncio",
        "--http",
        "h11",
    ]


def loadgen_run(*args: str) -> dict[str, float]:
    output = subprocess.run([sys.executable, str(LOADGEN), *args, "--json"], capture_output=True)
    if output.returncode != 0:
        raise RuntimeError(f"loadgen {' '.join(args)} failed:\n{output.stderr.decode(errors='replace')[-2000:]}")
    return json.loads(output.stdout)


@contextmanager
def servers(tmp: Path) -> Iterator[tuple[Server, Server, Server]]:
    """(mock at speed 0 on the shipped scenarios, mock playing ticks, bare app)."""
    env = dict(os.environ)
    started: list[Server] = []
    try:
        port = free_port()
        started.append(Server("mock", mock_command(port, SHIPPED, "0"), port, env=env))
        port = free_port()
        started.append(Server("mock ticks", mock_command(port, tmp / "ticks", "1"), port, tmp / "ticks.log", env))
        research = asyncio.run(loadgen.fetch(HOST, started[0].port, loadgen.run_request("research-team")))
        ticks = asyncio.run(loadgen.fetch(HOST, started[1].port, loadgen.run_request("ticks")))
        (tmp / "research.body").write_bytes(loadgen.dechunk(research))
        (tmp / "ticks.body").write_bytes(loadgen.dechunk(ticks))
        env.update(BARE_RESEARCH=str(tmp / "research.body"), BARE_TICKS=str(tmp / "ticks.body"))
        port = free_port()
        started.append(Server("bare", bare_command(tmp, port), port, env=env))
        yield started[0], started[1], started[2]
    finally:
        for server in started:
            server.stop()


def rounds_of(count: int) -> Iterator[tuple[int, bool]]:
    """(round, mock first?) alternating the order each round."""
    for index in range(count):
        yield index + 1, index % 2 == 0


def measure_throughput(mock: Server, bare: Server, args: argparse.Namespace) -> list[float]:
    """`--rounds` rounds of `--slices` pairs of short slices, mock and bare in turn: the load of a
    shared machine swings within seconds, so each ratio compares slices taken moments apart."""
    ratios = []
    for number, mock_first in rounds_of(args.rounds):
        totals = {"mock": 0.0, "bare": 0.0}
        pairs = []
        for _slice in range(args.slices):
            rates = {}
            for server in (mock, bare) if mock_first else (bare, mock):
                rates[server.name] = loadgen_run(
                    "throughput",
                    "--port",
                    str(server.port),
                    "--team",
                    "research-team",
                    "--connections",
                    str(args.connections),
                    "--warmup",
                    "0.3",
                    "--seconds",
                    str(args.seconds),
                )["runs_per_s"]
                totals[server.name] += rates[server.name] / args.slices
            pairs.append(rates["mock"] / rates["bare"])
            mock_first = not mock_first
        ratio = statistics.median(pairs)
        ratios.append(ratio)
        print(
            f"  round {number}: mock {totals['mock']:7.1f} runs/s | bare {totals['bare']:7.1f} runs/s (means)"
            f" | median ratio of {args.slices} pairs {ratio:.2f}",
            flush=True,
        )
    return ratios


def measure_burst(ticks: Server, bare: Server, args: argparse.Namespace) -> list[float]:
    """Also the CPU each server spends on the burst: above the streams' own 1.9 s, no server can
    be on time on one core, however it orders its work."""
    ratios = []
    ticks.lateness("ticks")
    for number, mock_first in rounds_of(args.rounds):
        results, cpu = {}, {}
        for server in (ticks, bare) if mock_first else (bare, ticks):
            before = cpu_seconds(server.process.pid)
            results[server.name] = loadgen_run(
                "burst", "--port", str(server.port), "--team", "ticks", "--streams", str(args.streams)
            )
            cpu[server.name] = cpu_seconds(server.process.pid) - before
            time.sleep(1)
        late = sorted(ticks.lateness("ticks"))
        mock, plain = results["mock ticks"], results["bare"]
        ratio = mock["max_s"] / plain["max_s"]
        ratios.append(ratio)
        p99 = late[max(0, int(len(late) * 0.99) - 1)] if late else float("nan")
        print(
            f"  round {number}: mock median {mock['median_s']:.2f} s, max {mock['max_s']:.2f} s"
            f" | bare median {plain['median_s']:.2f} s, max {plain['max_s']:.2f} s | ratio of max {ratio:.2f}"
            f" | mock lateness over {len(late)} runs: p50 {statistics.median(late) if late else 0:.1f} ms,"
            f" p99 {p99:.1f} ms, max {late[-1] if late else 0:.1f} ms"
            f" | CPU: mock {cpu['mock ticks']:.2f} s, bare {cpu['bare']:.2f} s",
            flush=True,
        )
    return ratios


def measure_start(tmp: Path, args: argparse.Namespace) -> None:
    env = dict(os.environ, BARE_RESEARCH=str(tmp / "research.body"), BARE_TICKS=str(tmp / "ticks.body"))
    figures: dict[str, list[tuple[float, float]]] = {"mock": [], "bare": []}
    for _number, mock_first in rounds_of(args.rounds):
        for name in ("mock", "bare") if mock_first else ("bare", "mock"):
            port = free_port()
            command = mock_command(port, SHIPPED, "0") if name == "mock" else bare_command(tmp, port)
            server = Server(name, command, port, env=env)
            figures[name].append((server.start, server.rss))
            server.stop()
    mock_start = statistics.median(s for s, _ in figures["mock"])
    bare_start = statistics.median(s for s, _ in figures["bare"])
    print(
        f"  start to first /health 200 (median of {args.rounds}): mock {mock_start:.3f} s | bare {bare_start:.3f} s"
        f" | ratio {mock_start / bare_start:.2f}"
    )
    print(
        f"  RSS after start (median): mock {statistics.median(r for _, r in figures['mock']):.1f} MiB"
        f" | bare {statistics.median(r for _, r in figures['bare']):.1f} MiB"
    )
    port = free_port()
    server = Server("mock", mock_command(port, SHIPPED, "0"), port, env=env)
    try:
        for _ in range(args.finished // 50):
            loadgen_run("burst", "--port", str(port), "--team", "research-team", "--streams", "50")
        runs = args.finished // 50 * 50
        print(f"  mock RSS after {runs} finished research-team runs: {rss_mib(server.process.pid):.1f} MiB")
    finally:
        server.stop()


def measure_timing(ticks_dir: Path) -> None:
    port = free_port()
    server = Server("mock timing", mock_command(port, ticks_dir, "1"), port)
    try:
        with socket.create_connection((HOST, port)) as sock:
            sock.sendall(loadgen.run_request("timing", close=True))
            arrivals: list[float] = []
            head = b""
            while b"\r\n\r\n" not in head:
                head += sock.recv(65536)
            start = time.monotonic()
            buffer = head.partition(b"\r\n\r\n")[2]
            events = buffer.count(b"event: ")
            arrivals += [0.0] * events
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                now = time.monotonic() - start
                arrivals += [now] * data.count(b"event: ")
        # Relative to the first event's arrival: frame i is due 20 ms * i after frame 0.
        lateness = [arrived - arrivals[0] - 0.02 * i for i, arrived in enumerate(arrivals)]
        # Drift is what builds up over the stream: the last 20 frames' median against the first
        # 20's. The last frame alone (as printed before) is one sample of the same jitter as `worst`.
        drift = statistics.median(lateness[-20:]) - statistics.median(lateness[:20])
        print(
            f"  {len(arrivals)} events 20 ms apart: worst lateness {max(lateness) * 1000:.1f} ms,"
            f" median {statistics.median(lateness) * 1000:.1f} ms, drift {drift * 1000:.1f} ms"
            f" (the last frame alone: {lateness[-1] * 1000:.1f} ms)"
        )
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=1.5, help="length of one throughput slice")
    parser.add_argument("--slices", type=int, default=8, help="mock/bare slice pairs a throughput round")
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--finished", type=int, default=1000)
    parser.add_argument("--only", choices=("throughput", "burst", "start", "timing"), action="append")
    args = parser.parse_args()
    only = set(args.only or ("throughput", "burst", "start", "timing"))
    load = os.getloadavg()[0]
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {load:.1f}, mock on {server_stack()},"
        " bare on asyncio + h11",
        flush=True,
    )
    # The mock starts from bytecode, as the bare app's installed dependencies do: an editable install under
    # PYTHONDONTWRITEBYTECODE=1 would compile its ~100 modules again at every start (+0.18 s, +1.3 MiB here).
    compileall.compile_dir(ROOT / "mockserver", quiet=1)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        (tmp / "bare_app.py").write_text(BARE_APP)
        (tmp / "ticks").mkdir()
        (tmp / "ticks" / "ticks.yaml").write_text(TICKS_SCENARIO)
        (tmp / "timing").mkdir()
        (tmp / "timing" / "timing.yaml").write_text(TIMING_SCENARIO)
        with servers(tmp) as (mock, ticks, bare):
            if "throughput" in only:
                print(
                    f"1. throughput, speed 0, research-team, {args.connections} connections,"
                    f" slices of {args.seconds:g} s"
                )
                ratios = measure_throughput(mock, bare, args)
                print(
                    f"  ratio mock / bare: median {statistics.median(ratios):.2f},"
                    f" range {min(ratios):.2f}-{max(ratios):.2f}"
                )
            if "burst" in only:
                print(f"2. {args.streams} concurrent streams of 20 frames 100 ms apart, all started at once")
                ratios = measure_burst(ticks, bare, args)
                print(f"  ratio of max mock / bare: median {statistics.median(ratios):.2f}")
        if "start" in only:
            print("3. start and memory")
            measure_start(tmp, args)
        if "timing" in only:
            print("4. timing: one stream of 200 events 20 ms apart (speed 1)")
            measure_timing(tmp / "timing")


if __name__ == "__main__":
    main()
