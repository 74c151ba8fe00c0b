"""`stream=false`: the whole run as one TeamRunOutput JSON body when it ends."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import ClassVar

from mockserver.agentos.fold import RunFold
from mockserver.agentos.output import run_output
from mockserver.run.plan import Frame, Plan


def render(content: object) -> bytes:
    """Exactly the bytes of Starlette's `JSONResponse`."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()


class TeamRunOutputJSON:
    streaming = False
    media_type = "application/json"
    headers: ClassVar[Mapping[str, str]] = MappingProxyType({})

    def frames(self, frames: Sequence[Frame]) -> bytes:
        return b""

    def keep_alive(self) -> bytes:
        return b""

    def end(self, plan: Plan, facts: RunFold) -> bytes:
        return render(run_output(plan, facts))
