"""Stopping: set once when the server shuts down, so open streams and waits end at once.

A stream or a wait runs inside `stopping.scope()`; `set()` cancels every such scope, and any
scope entered afterwards is cancelled as it opens. Runs inside the event loop only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import anyio


class Stopping:
    def __init__(self) -> None:
        self.is_set = False
        self._scopes: set[anyio.CancelScope] = set()

    def set(self) -> None:
        self.is_set = True
        for scope in list(self._scopes):
            scope.cancel()

    @contextmanager
    def scope(self) -> Iterator[anyio.CancelScope]:
        """A cancel scope that the shutdown cancels; check `cancelled_caught` after it."""
        with anyio.CancelScope() as scope:
            if self.is_set:
                scope.cancel()
            self._scopes.add(scope)
            try:
                yield scope
            finally:
                self._scopes.discard(scope)

    async def sleep(self, seconds: float) -> bool:
        """Sleep `seconds`; False when the shutdown cut the sleep short."""
        with self.scope() as scope:
            await anyio.sleep(seconds)
        return not scope.cancelled_caught
