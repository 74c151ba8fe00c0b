"""YAML read with the line of every mapping key and list item, for error messages.

Every YAML error becomes one `SourceError` at a line, which the loader turns into a problem.
"""

from __future__ import annotations

from typing import Any

import yaml


class LineDict(dict):
    """A mapping that remembers the line of each key (1-based)."""

    line: int
    key_lines: dict[Any, int]


class LineList(list):
    """A list that remembers the line of each item (1-based)."""

    line: int
    item_lines: list[int]


class SourceError(Exception):
    """Why a file's text cannot be read, and at which line (1-based)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


class _Loader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:  # type: ignore[override]
        self.flatten_mapping(node)
        mapping = LineDict()
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            key_line = key_node.start_mark.line + 1
            if key in mapping:
                raise SourceError(key_line, f"duplicate key {key!r}; each key may appear once in a mapping")
            mapping[key] = self.construct_object(value_node, deep=True)
            mapping.key_lines[key] = key_line
        return mapping

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> LineList:  # type: ignore[override]
        items = LineList(self.construct_object(child, deep=True) for child in node.value)
        items.line = node.start_mark.line + 1
        items.item_lines = [child.start_mark.line + 1 for child in node.value]
        return items


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_sequence)


def parse(text: str) -> Any:
    """Parse YAML into LineDict/LineList; raises SourceError and nothing else."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        raise SourceError(mark.line + 1 if mark else 1, f"not valid YAML: {error.problem or error}") from None
    except yaml.YAMLError as error:
        raise SourceError(1, f"not valid YAML: {error}") from None


def line_of(container: Any, key: Any, default: int = 1) -> int:
    if isinstance(container, LineDict):
        return container.key_lines.get(key, container.line)
    if isinstance(container, LineList) and isinstance(key, int) and key < len(container.item_lines):
        return container.item_lines[key]
    return getattr(container, "line", default)
