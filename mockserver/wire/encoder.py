"""The seam between a run and a wire protocol: frames in, bytes out.

The pipeline feeds every encoder the same frames at the same moments; an encoder decides only
what bytes they become. A streaming encoder's head goes out before the first frame; another
one's head and body go out together when the run ends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from mockserver.agentos.fold import RunFold
from mockserver.run.plan import Frame, Plan


class Encoder(Protocol):
    # Read-only, so an encoder may declare them as plain class attributes of narrower types.
    @property
    def streaming(self) -> bool: ...

    @property
    def media_type(self) -> str: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    def frames(self, frames: Sequence[Frame]) -> bytes:
        """The bytes for frames that are due now (b"" to send nothing yet)."""

    def keep_alive(self) -> bytes:
        """The bytes that keep an idle connection open (b"" for none)."""

    def end(self, plan: Plan, facts: RunFold) -> bytes:
        """The bytes that close the response, given what the run sent."""
