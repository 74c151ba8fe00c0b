"""How a plan reaches the client: the plan says what is sent, a delivery says how.

A plain run is delivered as planned. A fault changes only the delivery: a wait before the
response head, a hold with keep-alive comments before some frame, a cancel or a cut
connection after some frame, or an HTTP answer instead of the run. Every run, plain or
faulted, is then played by the same player and pipeline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from starlette.types import ASGIApp


@dataclass(frozen=True)
class Delivery:
    head_delay: float = 0.0
    """Wall-clock seconds before anything is sent, not even the head."""
    hold_at: int | None = None
    """Before frame `hold_at` is due, nothing but keep-alives for `hold` seconds (inf: forever)."""
    hold: float = 0.0
    keep_alive: float | None = None
    cancel_at: int | None = None
    """After this many frames, the run is cancelled as `POST …/cancel` cancels it."""
    cut_at: int | None = None
    """After this many frames, the connection closes with the response unfinished."""
    refusal: ASGIApp | None = None
    """Answered instead of the run (an HTTP-status fault): no frame is played."""
    fault: str | None = None
    """The fault kind that shaped this delivery, for the run log and the journal."""

    @property
    def holds_forever(self) -> bool:
        return self.hold_at is not None and self.hold == math.inf


PLAIN = Delivery()
