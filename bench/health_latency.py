"""How long `/health` takes while 1 MiB messages stream at speed 0, against the same server idle.

    python bench/health_latency.py [--runs 4] [--rounds 3]

Starts a real `mockserver serve` (`--speed 0`, shipped scenarios; `bench/hardening_memory.py`'s
helper), then per round: `/health` polled every 10 ms for 2 s with nothing else going on, then
again while another process posts `--runs` one-MiB messages to quick-team (which echoes them)
one after the other. Prints p50, p90 and the slowest of each, in ms. The loader is its own
process, so its client work does not hold this one's GIL.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hardening_memory import ROOT, server

LOADER = """
import http.client, sys, urllib.parse
port, runs = int(sys.argv[1]), int(sys.argv[2])
body = urllib.parse.urlencode({"message": ("word " * 209716)[:1048576]}).encode()
for _ in range(runs):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("POST", "/teams/quick-team/runs", body=body,
                       headers={"content-type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    while response.read(65536):
        pass
    connection.close()
"""


def poll(port: int, until: float | None = None, loader: subprocess.Popen[bytes] | None = None) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    latencies = []
    try:
        while (loader.poll() is None) if loader is not None else (until is not None and time.monotonic() < until):
            started = time.monotonic()
            connection.request("GET", "/health")
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            latencies.append((time.monotonic() - started) * 1000)
            time.sleep(0.01)
    finally:
        connection.close()
    return latencies


def shown(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p90 = ordered[len(ordered) * 9 // 10]
    return f"n {len(ordered):4d}  p50 {statistics.median(ordered):6.1f}  p90 {p90:6.1f}  max {ordered[-1]:6.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with server(ROOT / "scenarios") as (port, _):
        for round_ in range(1, args.rounds + 1):
            idle = poll(port, until=time.monotonic() + 2)
            loader = subprocess.Popen([sys.executable, "-c", LOADER, str(port), str(args.runs)])
            busy = poll(port, loader=loader)
            print(f"round {round_}: idle   {shown(idle)}")
            print(f"round {round_}: 1 MiB  {shown(busy)}  ({args.runs} messages streamed)")


if __name__ == "__main__":
    main()
