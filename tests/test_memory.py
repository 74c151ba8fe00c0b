"""What a long message costs a real `mockserver serve` in memory (Linux: read from /proc).

The figures themselves are in `bench/hardening_memory.md`; this checks the bound does not slip:
a 1 MiB message to a team that does not repeat it grows the server's peak RSS by about twice
its size, the floor (its bytes and its text exist together for an instant, and the session
keeps the text). Before the form readers decoded field by field, the seed took a digest and
glibc kept its mmap threshold, the same request grew it by 3.3-6.9 MiB.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from tests.conftest import free_port

MIB = 1024 * 1024
MESSAGE = ("word " * (MIB // 5 + 1))[:MIB]
FIXED = """version: 1
team: {id: fixed, name: Fixed}
scenarios:
  - name: answer
    events:
      - text: "A short answer that does not repeat the question."
"""
BOUNDARY = "memoryTest"

pytestmark = pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux's /proc")


def _status(pid: int, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {name} in /proc/{pid}/status")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    folder = tmp_path_factory.mktemp("memory")
    (folder / "fixed.yaml").write_text(FIXED)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOCKSERVER_", "MALLOC_", "GLIBC_TUNABLES"))}
    command = [sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--scenarios", str(folder)]
    process = subprocess.Popen([*command, "--speed", "0", "--no-reload"], env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, "the server did not start"
            try:
                if httpx.post(f"{url}/teams/fixed/runs", data={"message": "warm"}).status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.05)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


def _urlencoded() -> tuple[bytes, str]:
    return urlencode({"message": MESSAGE}).encode(), "application/x-www-form-urlencoded"


def _multipart() -> tuple[bytes, str]:
    part = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="message"\r\n\r\n{MESSAGE}\r\n'
    return f"{part}--{BOUNDARY}--\r\n".encode(), f"multipart/form-data; boundary={BOUNDARY}"


@pytest.mark.parametrize("form", [_urlencoded, _multipart], ids=["urlencoded", "multipart"])
def test_a_1mib_message_grows_peak_rss_by_about_twice_its_size(
    server: tuple[str, int], form: Callable[[], tuple[bytes, str]]
) -> None:
    url, pid = server
    body, content_type = form()
    before = _status(pid, "VmRSS")
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # the peak mark, VmHWM, starts again from now
    answer = httpx.post(f"{url}/teams/fixed/runs", content=body, headers={"content-type": content_type}, timeout=30)
    assert answer.status_code == 200
    assert answer.text.count("event: TeamRunCompleted") == 1
    growth = (_status(pid, "VmHWM") - before) / MIB
    assert growth < 3.0, f"peak RSS grew by {growth:.2f} MiB for a 1 MiB message"
