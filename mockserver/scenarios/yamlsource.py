"""YAML read with the line of every mapping key and list item, within the limits of `Limits`.

Every failure, a YAML error or a limit passed, becomes one `SourceError` at a line, so no
file can make the loader raise anything else or recurse past Python's stack. So does a value
YAML can hold and JSON cannot, which would break every run that sends it: `.nan`, `.inf`, and
text with half of a surrogate pair (`"\\ud800"`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from typing import Any, ClassVar

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from mockserver.jsontext import holds_surrogate
from mockserver.scenarios.limits import DEFAULT_LIMITS, Limits
from mockserver.scenarios.templates import human_size


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


class _Counting(Composer, SafeConstructor, Resolver):
    """Counts while composing, before anything is expanded: an alias adds the size, text and
    depth of the node it repeats, which are known when the alias is met.

    The events it composes come from the parser a subclass adds (`read` starts it on the text)."""

    def __init__(self, text: str, limits: Limits) -> None:
        self.read(text)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self.limits = limits
        self.depth = 0
        self.deepest = 0
        self.nodes = 0
        self.chars = 0
        self.extents: dict[yaml.Node, tuple[int, int, int]] = {}

    def read(self, text: str) -> None:
        raise NotImplementedError

    # From the subclass's parser.
    peek_event: Callable[[], Any]
    dispose: Callable[[], None]

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)
            nodes, chars, height = self.extents.get(node, (1, 0, 1)) if node else (1, 0, 1)
            self.count(nodes, chars, line)
            self.reach(self.depth + height, line)
            return node
        self.depth += 1
        self.reach(self.depth, line)
        self.count(1, 0, line)
        nodes, chars, outer = self.nodes - 1, self.chars, self.deepest
        self.deepest = self.depth
        node = super().compose_node(parent, index)
        if isinstance(node, yaml.ScalarNode):
            self.count(0, len(node.value), line)
        if node is not None and event.anchor is not None:
            self.extents[node] = (self.nodes - nodes, self.chars - chars, self.deepest - self.depth + 1)
        self.depth -= 1
        self.deepest = max(outer, self.deepest)
        return node

    def reach(self, depth: int, line: int) -> None:
        self.deepest = max(self.deepest, depth)
        if depth > self.limits.depth:
            limit = self.limits.depth
            raise SourceError(
                line,
                f"lists and mappings nested more than {limit} deep; expected at most {limit} levels (the depth limit)",
            )

    def count(self, nodes: int, chars: int, line: int) -> None:
        self.nodes += nodes
        self.chars += chars
        if self.nodes > self.limits.nodes:
            limit = self.limits.nodes
            raise SourceError(
                line,
                (
                    f"more than {limit} values in the file, an alias counting as all it repeats; expected at most "
                    f"{limit} (the node limit)"
                ),
            )
        if self.chars > self.limits.expanded_size:
            size = human_size(self.limits.expanded_size)
            raise SourceError(
                line,
                (
                    f"aliases expand the text past {size}; expected at most {size} once aliases are expanded (the "
                    f"expanded-size limit)"
                ),
            )

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:
        self.flatten_mapping(node)
        mapping = LineDict()
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            key_line = key_node.start_mark.line + 1
            if not isinstance(key, Hashable):
                kind = "list" if isinstance(key, list) else "mapping"
                raise SourceError(key_line, f"a {kind} as a mapping key; expected a string or a number")
            if key in mapping:
                raise SourceError(key_line, f"duplicate key {key!r}; each key may appear once in a mapping")
            mapping[key] = self.construct_object(value_node, deep=True)
            mapping.key_lines[key] = key_line
        return mapping

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> LineList:
        items = LineList(self.construct_object(child, deep=True) for child in node.value)
        items.line = node.start_mark.line + 1
        items.item_lines = [child.start_mark.line + 1 for child in node.value]
        return items

    def construct_finite_float(self, node: yaml.ScalarNode) -> float:
        number = float(SafeConstructor.construct_yaml_float(self, node))
        if math.isinf(number) or math.isnan(number):
            raise SourceError(
                node.start_mark.line + 1, f"{node.value} is a number JSON cannot carry; expected a finite number"
            )
        return number

    def construct_text(self, node: yaml.ScalarNode) -> str:
        text = str(SafeConstructor.construct_yaml_str(self, node))
        if holds_surrogate(text):
            raise SourceError(
                node.start_mark.line + 1,
                "text with half of a surrogate pair (\\ud800-\\udfff), which UTF-8 cannot encode; "
                "expected the character itself, or its 8-digit escape (\\U0001F600)",
            )
        return text

    # What `add_constructor` would do; its stubs take PyYAML's own loaders only.
    yaml_constructors: ClassVar[dict[str | None, Any]] = {
        **SafeConstructor.yaml_constructors,
        "tag:yaml.org,2002:map": construct_mapping,
        "tag:yaml.org,2002:seq": construct_sequence,
        "tag:yaml.org,2002:float": construct_finite_float,
        "tag:yaml.org,2002:str": construct_text,
    }


class PythonLoader(_Counting, Reader, Scanner, Parser):
    """PyYAML's pure-Python parser under our composer: the fallback when PyYAML has no libyaml."""

    def read(self, text: str) -> None:
        Reader.__init__(self, text)  # checks the characters at once
        Scanner.__init__(self)
        Parser.__init__(self)


Loader: type[_Counting] = PythonLoader  # the parser `parse` tries first

if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class LibyamlLoader(_Counting, CParser):
        """libyaml's parser (C: the shipped scenarios load six times faster) under the same
        composer, so the limits and lines stay ours."""

        def read(self, text: str) -> None:
            CParser.__init__(self, text)

    Loader = LibyamlLoader


def decode(data: bytes) -> str:
    """UTF-8 text, or a SourceError at the line of the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - data.rfind(b"\n", 0, error.start)
        byte = data[error.start]
        raise SourceError(
            line, f"byte 0x{byte:02x} at column {column} is not UTF-8 ({error.reason}); expected a UTF-8 text file"
        ) from None


def parse(text: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Parse YAML into LineDict/LineList; raises SourceError and nothing else.

    A text libyaml cannot parse is parsed again by PyYAML's own parser, whose error is the one
    reported: the same words and line whichever parser PyYAML has, and a text nested past
    libyaml's own depth limit (1000) gets ours instead of libyaml's.
    """
    if Loader is not PythonLoader:
        try:
            return _load(Loader, text, limits)
        except (yaml.YAMLError, ValueError):  # ValueError: a str libyaml cannot encode as UTF-8
            pass
    try:
        return _load(PythonLoader, text, limits)
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        message = f"not valid YAML: control character #x{error.character:04x} ({error.reason}); expected printable text"
        raise SourceError(line, message) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        raise SourceError(mark.line + 1 if mark else 1, f"not valid YAML: {error.problem or error}") from None
    except yaml.YAMLError as error:
        raise SourceError(1, f"not valid YAML: {error}") from None


def _load(loader_class: type[_Counting], text: str, limits: Limits) -> Any:
    loader = loader_class(text, limits)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def line_of(container: Any, key: Any, default: int = 1) -> int:
    if isinstance(container, LineDict):
        return container.key_lines.get(key, container.line)
    if isinstance(container, LineList) and isinstance(key, int) and key < len(container.item_lines):
        return container.item_lines[key]
    return getattr(container, "line", default)
