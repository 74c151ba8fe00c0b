"""`mockserver record`: the proxy served until Ctrl-C, or one run sent through it (the one-shot form)."""

from __future__ import annotations

import json
import signal
import socket
import sys
import urllib.parse
from pathlib import Path
from types import FrameType

import anyio
import uvicorn
from starlette.types import Message

from mockserver.record.proxy import RecordingProxy
from mockserver.record.writer import RecordingFolder, RecordingRefused
from mockserver.scenarios.loader import ScenarioError

GRACE_SECONDS = 1
"""How long Ctrl-C waits for a run still streaming; it is not recorded either way."""


def say(line: str) -> None:
    print(line, flush=True)


def _exit(signum: int, frame: FrameType | None) -> None:
    """uvicorn raises the signal again after its graceful shutdown: exit quietly, not with a traceback."""
    raise SystemExit(0)


def _folder(
    out: Path, rename: str | None, source: str, *, file: Path | None = None, command: str = "record"
) -> RecordingFolder | None:
    try:
        return RecordingFolder(out, rename=rename, source=source, file=file)
    except RecordingRefused as refusal:
        print(f"mockserver {command}: {refusal}", file=sys.stderr)
        return None


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, proxy: RecordingProxy) -> None:
        super().__init__(config)
        self.proxy = proxy

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.proxy.stop()  # a run still streaming ends now, unrecorded, instead of holding the exit
        await super().shutdown(sockets)


def record_proxy(upstream: str, out: Path, *, rename: str | None, host: str, port: int) -> int:
    folder = _folder(out, rename, upstream)
    if folder is None:
        return 1
    proxy = RecordingProxy(upstream, folder, say)
    config = uvicorn.Config(
        proxy, host=host, port=port, log_level="warning", timeout_graceful_shutdown=GRACE_SECONDS, lifespan="on"
    )
    say(f"recording {upstream} through http://{host}:{port} into {out}/; point the UI there, Ctrl-C to stop")
    signal.signal(signal.SIGINT, _exit)
    signal.signal(signal.SIGTERM, _exit)
    try:
        _Server(config, proxy).run()
    finally:
        say(f"{len(proxy.recorded)} run(s) recorded into {out}/")
    return 0


def record_once(upstream: str, team: str, message: str, out: Path, *, rename: str | None, key: str | None) -> int:
    """Send one streamed run through the recorder, as a UI would through the proxy."""
    single = out if out.suffix in (".yaml", ".yml") else None
    folder = _folder(out.parent if single else out, rename, upstream, file=single)
    if folder is None:
        return 1
    proxy = RecordingProxy(upstream, folder, say)
    status, body = anyio.run(_send_once, proxy, team, message, key)
    if status != 200:
        reason = body.decode("utf-8", errors="replace")[:500]
        print(f"could not record from {upstream}: {status} {reason}", file=sys.stderr)
        return 1
    if not proxy.recorded:
        print(f"{upstream} sent no complete run for team {team!r}", file=sys.stderr)
        return 1
    return 0


async def _send_once(proxy: RecordingProxy, team: str, message: str, key: str | None) -> tuple[int, bytes]:
    body = urllib.parse.urlencode({"message": message, "stream": "true"}).encode()
    path = f"/teams/{urllib.parse.quote(team, safe='')}/runs"
    headers = [(b"content-type", b"application/x-www-form-urlencoded"), (b"content-length", str(len(body)).encode())]
    if key:
        headers.append((b"authorization", f"Bearer {key}".encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": urllib.parse.unquote(path),
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 0),
    }
    done = anyio.Event()
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            if status != 200:
                chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                done.set()

    try:
        await proxy(scope, receive, send)
    finally:
        await proxy.aclose()
    return status, b"".join(chunks)


def import_capture(file: Path, out: Path, *, rename: str | None) -> int:
    from mockserver.record.importer import UnreadableCapture, import_file

    folder = _folder(out, rename, str(file), command="import")
    if folder is None:
        return 1
    try:
        written = import_file(file, folder)
    except (OSError, UnreadableCapture, RecordingRefused) as error:
        print(f"mockserver import: {file}: {error}", file=sys.stderr)
        return 1
    except ScenarioError as error:  # what the capture holds makes no scenario the mock can load
        print(f"mockserver import: {file}: its runs do not make a scenario that loads:\n{error}", file=sys.stderr)
        return 1
    for run, path, added in written:
        note = "" if added else " (message already imported: the replay answers with the first)"
        say(
            f"imported {folder.team_id_for(run.team_id)} {json.dumps(run.message, ensure_ascii=False)}:"
            f" {len(run.frames)} frames → {path}{note}"
        )
    return 0
