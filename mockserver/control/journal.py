"""The request journal: one entry per request to an AgentOS route, added when its response ends.

An entry is a plain JSON-ready dict built once (`http/journaling.py` builds it from what the
route and the run pipeline noted) and never changed. The journal keeps the last `size`
entries, the oldest going first, so memory stays flat however long a test suite runs; it also
keeps the estimated bytes of what it holds, which the app state bounds across namespaces. Live
watchers (`GET /__mock/requests/stream`) get each new entry through a bounded buffer; one that
falls that far behind is dropped rather than let the buffer grow.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import anyio

from mockserver.control import ControlError

if TYPE_CHECKING:  # only live watchers use memory streams, and their module pulls in much of anyio
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

Entry = dict[str, Any]
WATCH_BUFFER = 1000
"""Entries a live watcher may fall behind by before it is dropped."""


class Journal:
    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: deque[Entry] = deque(maxlen=size)
        self._weights: deque[int] = deque(maxlen=size)
        self.weight = 0
        """The estimated bytes of the entries kept (`add`'s weights)."""
        self._next_id = 1
        self._watchers: set[MemoryObjectSendStream[Entry]] = set()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def added(self) -> int:
        """Entries added since the server started, kept or not."""
        return self._next_id - 1

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries)

    def add(self, fields: Mapping[str, Any], weight: int = 0) -> Entry:
        """Give `fields` the next id and the time, keep it (about `weight` bytes), and hand it to every watcher."""
        entry: Entry = {"id": self._next_id, "time": _now(), **fields}
        self._next_id += 1
        if self.size:
            if len(self._entries) == self.size:
                self.weight -= self._weights[0]
            self._entries.append(entry)
            self._weights.append(weight)
            self.weight += weight
        for watcher in list(self._watchers):
            try:
                watcher.send_nowait(entry)
            except (anyio.WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError):
                self._watchers.discard(watcher)
                watcher.close()
        return entry

    def get(self, entry_id: int) -> Entry | None:
        return next((e for e in self._entries if e["id"] == entry_id), None)

    def drop_oldest(self) -> bool:
        """Let the oldest entry go; False if there is none."""
        if not self._entries:
            return False
        self._entries.popleft()
        self.weight -= self._weights.popleft()
        return True

    def clear(self) -> None:
        self._entries.clear()
        self._weights.clear()
        self.weight = 0

    def find(self, filters: Filters) -> list[Entry]:
        """Matching entries, oldest first; with a limit, the newest `limit` of them."""
        found = [e for e in self._entries if filters.accepts(e)]
        if filters.limit is not None:
            found = found[-filters.limit :] if filters.limit else []
        return found

    @contextmanager
    def watch(self) -> Iterator[MemoryObjectReceiveStream[Entry]]:
        """New entries as they are added, until the block ends."""
        send, receive = anyio.create_memory_object_stream[Entry](WATCH_BUFFER)
        self._watchers.add(send)
        try:
            with receive:
                yield receive
        finally:
            self._watchers.discard(send)
            send.close()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


FILTERS = ("team_id", "session_id", "user_id", "path", "message", "since", "limit")


@dataclass(frozen=True)
class Filters:
    """`GET /__mock/requests?…`: exact team_id, session_id, user_id and path, a regex searched in
    the message, `since` (an entry id: those after it; or an ISO time: those at or after it)."""

    team_id: str | None = None
    session_id: str | None = None
    user_id: str | None = None
    path: str | None = None
    message: re.Pattern[str] | None = None
    since_id: int | None = None
    since_time: str | None = None
    limit: int | None = None

    def accepts(self, entry: Entry) -> bool:
        for key in ("team_id", "session_id", "user_id", "path"):
            wanted = getattr(self, key)
            if wanted is not None and entry.get(key) != wanted:
                return False
        if self.message is not None and not self.message.search(entry.get("message") or ""):
            return False
        if self.since_id is not None and entry["id"] <= self.since_id:
            return False
        return not (self.since_time is not None and entry["time"] < self.since_time)


def parse_filters(params: Mapping[str, str]) -> Filters:
    """The filters of a query string; ControlError naming the first bad one."""
    unknown = sorted(set(params) - set(FILTERS) - {"namespace"})
    if unknown:
        raise ControlError(f"unknown filter {unknown[0]!r}; filters are {', '.join(FILTERS)}")
    values: dict[str, Any] = {k: params[k] for k in ("team_id", "session_id", "user_id", "path") if k in params}
    if "message" in params:
        values["message"] = compile_regex("message", params["message"])
    if "limit" in params:
        values["limit"] = whole_number("limit", params["limit"])
    since = params.get("since")
    if since is not None:
        if (since_id := digits(since)) is not None:
            values["since_id"] = since_id
        else:
            values["since_time"] = _iso(since)
    return Filters(**values)


def compile_regex(name: str, pattern: Any) -> re.Pattern[str]:
    if not isinstance(pattern, str):
        raise ControlError(f"{name}: expected a regular expression as a string, got {pattern!r}")
    try:
        return re.compile(pattern)
    except re.error as error:
        raise ControlError(f"{name}: bad regular expression {pattern!r}: {error}") from None


def digits(text: str) -> int | None:
    """The whole number `text` spells in ASCII digits, else None. `str.isdigit` also takes "²",
    which `int` refuses, and `int` refuses more than 4,300 digits: either was a 500."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def whole_number(name: str, value: Any) -> int:
    if isinstance(value, str) and (number := digits(value)) is not None:
        return number
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ControlError(f"{name}: expected a whole number >= 0, got {value!r}")


def _iso(text: str) -> str:
    """An ISO time as the journal writes it (UTC, milliseconds, `Z`), so strings compare as times."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        utc = moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):  # OverflowError: an offset that takes it past year 1 or 9999
        raise ControlError(
            f"since: expected an entry id or an ISO time such as 2026-01-31T10:00:00Z, got {text!r}"
        ) from None
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")
