"""How big a scenario file may be, so that a mistaken or hostile file is refused, not obeyed.

Without them a 588-byte alias bomb expands to ten million values, a few thousand nested `[`
overflow the parser's stack, and a 50 MB file keeps a reload busy for minutes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    file_size: int = 1024**2
    """Bytes in one file."""
    depth: int = 64
    """Levels of lists and mappings, counting those an alias brings in."""
    nodes: int = 100_000
    """Values (mappings, lists, scalars, keys) in one file, an alias counting as all it repeats."""
    expanded_size: int = 10 * 1024**2
    """Characters of scalar text once aliases are expanded (what a run could put on the wire)."""


DEFAULT_LIMITS = Limits()
