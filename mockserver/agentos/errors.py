"""What AgentOS refuses, in its own words; the http layer (`http/errors.py`) picks the status."""

from __future__ import annotations


class Refused(Exception):
    """A request AgentOS would not run; `detail` is its wording."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(Refused):
    """A session (or another thing a request names) that does not exist for this caller: 404."""


class Unsupported(Refused):
    """An upload AgentOS does not take: 400."""


class Invalid(Refused):
    """A field AgentOS validates and rejects: 422."""
